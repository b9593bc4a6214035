package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
)

// newPasswordCmd builds `jitgate password`.
func newPasswordCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "password",
		Short: "Make the password hashes the config stores for the web sign-in",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "hash",
		Short: "Read a password on standard input and print its bcrypt hash",
		Long: `Read one password from the first line of standard input and print its
bcrypt hash, for a user's password_hash in the config. For example:

  printf '%s\n' "$PASSWORD" | jitgate password hash`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sc := bufio.NewScanner(g.stdin)
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return err
				}
				return errors.New("no password on standard input; pipe one line to jitgate password hash")
			}
			password := sc.Bytes()
			if len(password) == 0 {
				return errors.New("the password on standard input is empty")
			}
			if len(password) > 72 {
				return errors.New("the password is longer than the 72 bytes bcrypt uses; choose a shorter one")
			}
			hash, err := bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, string(hash))
			return err
		},
	})
	return cmd
}
