package main

import "errors"

func cmdExport(args []string) error   { return errors.New("export: not built yet") }
func cmdLoadtest(args []string) error { return errors.New("loadtest: not built yet") }
func cmdBackup(args []string) error   { return errors.New("backup: not built yet") }
