package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/credentials"
)

// newCACmd builds `jitgate ca`, the certificate authority tools.
func newCACmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Print the public keys targets must trust",
	}
	var configPath string
	userCA := &cobra.Command{
		Use:   "ssh-user-ca --config FILE",
		Short: "Print the SSH user CA public key for sshd's TrustedUserCAKeys",
		Long: `Print the public key of the CA that signs jitgate's upstream SSH user
certificates, as one authorized_keys line. Put it in the file that each
target sshd names with TrustedUserCAKeys. The key file named by
ssh.user_ca_key_file is generated on first use when it does not exist.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := configs.Load(configPath)
			if err != nil {
				return err
			}
			ca, err := credentials.LoadOrCreateCA(cfg.SSH.UserCAKeyFile)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, ca.AuthorizedKey())
			return err
		},
	}
	userCA.Flags().StringVar(&configPath, "config", "", "config file whose ssh.user_ca_key_file to read (required)")
	_ = userCA.MarkFlagRequired("config")
	cmd.AddCommand(userCA)
	return cmd
}
