package main

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/server"
)

func newServeCmd(g *globals) *cobra.Command {
	var configPath, listen, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the jitgate server",
		Long: `Run the jitgate server with the config FILE until SIGINT or SIGTERM, then
stop accepting, end live sessions and close the store.

The log goes to standard error, in the format of --log-format or, without
it, of log.format in the config. Standard output gets one line per
listener once it accepts connections, such as
"jitgate: API on http://127.0.0.1:8080".`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if configPath == "" {
				return usageError{cmd: cmd, err: fmt.Errorf("--config is required")}
			}
			if listen != "" {
				if _, _, err := net.SplitHostPort(listen); err != nil {
					return usageError{cmd: cmd, err: fmt.Errorf("--listen %q is not a host:port address such as 127.0.0.1:8080", listen)}
				}
			}
			return serve(cmd.Context(), g, configPath, listen, logFormat, logLevel)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (YAML)")
	cmd.Flags().StringVar(&listen, "listen", "", "API address instead of listen.web, such as 127.0.0.1:0 for any free port; public_url stays as configured")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "log format: text or json (default: log.format from the config, else text)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (default: log.level from the config, else info)")
	return cmd
}

func serve(ctx context.Context, g *globals, configPath, listen, logFormat, logLevel string) error {
	cfg, err := configs.Load(configPath)
	if err != nil {
		return err
	}
	if listen != "" {
		cfg.Listen.Web = listen
	}
	if logFormat == "" {
		logFormat = cfg.Log.Format
	}
	if logLevel == "" {
		logLevel = cfg.Log.Level
	}
	log, err := server.NewLogger(g.stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	limitProcs(g, log)
	logCutPriority(log)

	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Stdout: g.stdout})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
