// Package e2e holds end-to-end tests that build the real carevoice binary,
// run it as a separate process on a real database and treat it as a patient's
// phone and an operator would: submissions over HTTP, SIGKILL and SIGTERM,
// `carevoice backup`, two instances on one PostgreSQL database.
package e2e
