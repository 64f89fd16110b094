// Package browsertest drives the real CareVoice app in Debian's headless
// Chromium: accessibility (axe-core), keyboard use, text zoom, languages,
// the kiosk (idle reset, back button, offline queue), page weight and the
// README screenshots. The tests skip, saying why, where no Chromium is found.
package browsertest
