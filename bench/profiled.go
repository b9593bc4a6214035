package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/server"
)

// profiledSubcommand is the first argument that turns this program into
// a copy of `jitgate serve` with net/http/pprof on a loopback port. It
// assembles the server the way cmd/proxy's serve command does, through
// configs.Load, server.NewLogger and server.New, so its front doors are
// the same code as in bin/jitgate.
const profiledSubcommand = "jitgate-pprof"

func profiledMain(args []string) error {
	fs := flag.NewFlagSet(profiledSubcommand, flag.ContinueOnError)
	configPath := fs.String("config", "", "jitgate config file")
	pprofAddr := fs.String("pprof-addr", "127.0.0.1:0", "loopback address for /debug/pprof/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		return errors.New("jitgate-pprof: -config is required")
	}
	cfg, err := configs.Load(*configPath)
	if err != nil {
		return err
	}
	log, err := server.NewLogger(os.Stderr, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		return fmt.Errorf("jitgate-pprof: listen on -pprof-addr %s: %w", *pprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/heap", pprof.Handler("heap"))
	go func() { _ = http.Serve(ln, mux) }() // ends with the process

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Stdout: os.Stdout})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
