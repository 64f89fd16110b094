// Package secure holds CareVoice's cryptographic building blocks: the
// master key and the sub-keys derived from it, sealing of contact details,
// password hashing and policy, random tokens, CSRF tokens, login throttling
// and per-key rate limiting.
//
// The package is deliberately free of storage and HTTP so that every promise
// it makes can be tested in isolation, and so that the HTTP layer, the CLI
// and the storage layer all share one implementation of each primitive.
package secure
