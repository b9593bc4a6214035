package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/identity"
)

// maxTokenLine caps the line `token hash` reads, far above real tokens.
const maxTokenLine = 4096

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make API tokens and the hashes the config stores",
		Long: `API tokens authenticate people to the HTTP API and serve as their password
at the Postgres front door. The config stores only each token's SHA-256,
under identities.users[].api_tokens.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "new",
		Short: "Print a new random token and its hash",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			token := identity.NewToken()
			fmt.Fprintf(g.stdout, "token: %s\nhash:  %s\n", token, identity.HashToken(token))
			fmt.Fprintln(g.stderr, "give the token to its owner and add the hash to their api_tokens in the config")
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "hash",
		Short: "Read a token on standard input and print its hash",
		Long: `Read one token from the first line of standard input and print the hash to
list under api_tokens. Reading from standard input keeps the token out of
the shell history and the process list.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			token, err := readToken(g)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, identity.HashToken(token))
			return nil
		},
	})
	return cmd
}

func readToken(g *globals) (string, error) {
	sc := bufio.NewScanner(g.stdin)
	sc.Buffer(make([]byte, 0, 256), maxTokenLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("reading the token from standard input: %w", err)
		}
		return "", errors.New("standard input is empty; pipe the token in, such as: printenv JITGATE_TOKEN | jitgate token hash")
	}
	token := strings.TrimSpace(sc.Text())
	if token == "" {
		return "", errors.New("the first line of standard input is empty; it must hold the token")
	}
	return token, nil
}
