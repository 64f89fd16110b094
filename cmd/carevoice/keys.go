package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

const keysUsage = `usage: carevoice keys rotate [--retire]   re-encrypt contact details under a new key
       carevoice keys status               show which keys the stored contact details use
       carevoice keys new                  print a fresh key for CAREVOICE_SECRET_KEY

With the key in the data folder (the default), "rotate" makes a new key,
keeps the old one in secret.key.old and re-encrypts every contact detail.
With CAREVOICE_SECRET_KEY, set it to a new key (carevoice keys new) and put
the old key in secret.key.old in the data folder, then run "rotate".
Stop the server first, or run "rotate" again after restarting it: rows
sealed by a server still holding the old key are picked up by a second run.`

// cmdKeys is `carevoice keys …`.
func cmdKeys(args []string) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	switch args[0] {
	case "new":
		fmt.Fprintln(cmdStdout, secure.EncodeKey(secure.GenerateKey()))
		return nil
	case "status", "rotate":
	default:
		return errors.New(keysUsage)
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	c := dbFlags(fs)
	retire := fs.Bool("retire", false, "after a complete re-encryption, delete secret.key.old (backups older than now then lose their contact details)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{SQLitePath: c.DB, DatabaseURL: c.DatabaseURL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "status" {
		kr, err := secure.LoadOrCreateKey(c.dataDir(), c.SecretKey)
		if err != nil {
			return err
		}
		return keyStatus(ctx, st, kr, cmdStdout)
	}
	return rotateKeys(ctx, st, c, *retire, cmdStdout)
}

// rotateKeys re-encrypts every contact detail under the current key, after
// making a new one when the key lives in the data folder.
func rotateKeys(ctx context.Context, st *storage.Store, c *config, retire bool, out io.Writer) error {
	var kr *secure.Keyring
	var err error
	fileKey := c.SecretKey == ""
	if fileKey {
		// Make sure a key file exists (first use), then rotate it.
		if _, err := secure.LoadOrCreateKey(c.dataDir(), ""); err != nil {
			return err
		}
		kr, err = secure.RotateKeyFile(c.dataDir())
	} else {
		kr, err = secure.LoadOrCreateKey(c.dataDir(), c.SecretKey)
	}
	if err != nil {
		return err
	}
	n, total, err := reseal(ctx, st, kr)
	if err != nil {
		return fmt.Errorf("re-encryption stopped (run it again to finish; nothing is lost, the old key is kept): %w", err)
	}
	st.Audit(ctx, "cli", "keys.rotate", kr.KeyID(), map[string]int64{"resealed": n, "contacts": total})
	fmt.Fprintf(out, "current key %s: re-encrypted %d of %d contact details\n", kr.KeyID(), n, total)
	if retire {
		if !fileKey {
			fmt.Fprintln(out, "the old key now opens nothing here: remove it from secret.key.old and your secret store")
		}
		if err := secure.RetireOldKeys(c.dataDir()); err != nil {
			return err
		}
		fmt.Fprintln(out, "retired the old keys: backups made before this rotation can no longer show contact details")
	} else {
		fmt.Fprintln(out, "the old key stays in secret.key.old so that older backups still open; --retire deletes it")
	}
	fmt.Fprintln(out, "restart the server so it seals new contact details with the new key")
	return nil
}

func reseal(ctx context.Context, st *storage.Store, kr *secure.Keyring) (changed, total int64, err error) {
	return st.ResealContacts(ctx, func(c storage.SealedContact) ([]byte, bool, error) {
		if !kr.NeedsReseal(c.Sealed) {
			return nil, false, nil
		}
		out, err := kr.Reseal(c.Sealed, []byte(c.ResponseID))
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	})
}

// keyStatus counts stored contact details per key id, so an operator can
// see whether a rotation finished before retiring a key.
func keyStatus(ctx context.Context, st *storage.Store, kr *secure.Keyring, out io.Writer) error {
	counts := map[string]int64{}
	_, _, err := st.ResealContacts(ctx, func(c storage.SealedContact) ([]byte, bool, error) {
		id, err := secure.CiphertextKeyID(c.Sealed)
		if err != nil {
			id = "unreadable"
		}
		counts[id]++
		return nil, false, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "current key: %s\n", kr.KeyID())
	for _, id := range kr.KeyIDs()[1:] {
		fmt.Fprintf(out, "old key:     %s\n", id)
	}
	if len(counts) == 0 {
		fmt.Fprintln(out, "no contact details stored")
	}
	for id, n := range counts {
		fmt.Fprintf(out, "%d contact details sealed with %s\n", n, id)
	}
	return nil
}
