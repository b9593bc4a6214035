package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/recordings"
)

// newReplayCmd builds `jitgate replay`.
func newReplayCmd(g *globals) *cobra.Command {
	var opts recordings.ReplayOptions
	var instant bool
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay a terminal recording or print a query log as a timeline",
		Long: `replay plays an SSH terminal recording (asciicast v2, .cast) on this
terminal with its original timing, or prints a PostgreSQL query log
(.jsonl) as a table of statements with their start time, duration, tag,
rows and error. Recordings are under the recordings folder of the config,
one file per session channel; jitgate sessions lists the sessions.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			if strings.HasSuffix(args[0], ".jsonl") {
				return printQueryLog(f, g.stdout)
			}
			if instant {
				opts.Speed = math.Inf(1)
			}
			return recordings.Replay(f, g.stdout, opts)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&opts.Speed, "speed", 1, "playback speed factor: 2 plays twice as fast")
	f.DurationVar(&opts.MaxIdle, "max-idle", 2*time.Second, "longest pause between two outputs; 0 keeps the recorded pauses")
	f.BoolVar(&instant, "instant", false, "write the whole output at once, without pauses")
	return cmd
}

// queryLogLine holds the fields of a query log line that the timeline shows.
type queryLogLine struct {
	Type         string    `json:"type"`
	Start        time.Time `json:"start"`
	DurationUS   int64     `json:"duration_us"`
	Text         string    `json:"text"`
	Tag          string    `json:"tag"`
	Rows         int64     `json:"rows"`
	ErrorCode    string    `json:"error_code"`
	ErrorMessage string    `json:"error_message"`
	Who          string    `json:"who"`
	Target       string    `json:"target"`
	Role         string    `json:"role"`
	Grant        int64     `json:"grant"`
}

// printQueryLog writes the header and one row per statement.
func printQueryLog(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tDURATION\tTAG\tROWS\tERROR\tSTATEMENT")
	for n := 1; sc.Scan(); n++ {
		var l queryLogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("query log line %d is not JSON: %w", n, err)
		}
		switch l.Type {
		case "header":
			fmt.Fprintf(w, "session of %s on %s as %s, grant %d\n", l.Who, l.Target, l.Role, l.Grant)
		case "query":
			// A statement the session's end cut has a message and no code.
			errText := strings.TrimSpace(l.ErrorCode + " " + l.ErrorMessage)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", l.Start.UTC().Format("15:04:05.000"),
				time.Duration(l.DurationUS)*time.Microsecond, orDash(l.Tag), l.Rows, orDash(errText),
				strings.Join(strings.Fields(l.Text), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return tw.Flush()
}
