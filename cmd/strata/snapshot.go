package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	snapshotUsage = `Usage:
  strata snapshot save FILE [--endpoints host:port] [--cacert F --cert F --key F]
      stream a consistent copy of a running server's database to FILE
      (SQLite: a database file, without etcd's trailing SHA-256, which is
      checked on the way)
  strata snapshot restore FILE [--endpoint sqlite://path]
      write a SQLite database that strata --endpoint sqlite://path starts
      from; refuses to overwrite an existing file
  strata snapshot status FILE [--write-out table|json]
      print the snapshot's hash, revision, key count and size
`
	// progressEvery is the period of progress lines when stderr is not a
	// terminal; progressRedraw the period of a terminal's progress bar.
	progressEvery  = 5 * time.Second
	progressRedraw = 100 * time.Millisecond
	dialTimeout    = 5 * time.Second
	// sqliteMagic starts every SQLite database file.
	sqliteMagic = "SQLite format 3\x00"
)

func runSnapshot(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, snapshotUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "save":
		err = snapshotSave(args[1:], stdout, stderr)
	case "restore":
		err = snapshotRestore(args[1:], stdout, stderr)
	case "status":
		err = snapshotStatus(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, snapshotUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "strata snapshot: unknown command %q\n%s", args[0], snapshotUsage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata snapshot "+args[0]+":", err)
		return 1
	}
	return 0
}

// parseFile parses flags around one file argument.
func parseFile(fs *flag.FlagSet, args []string) (string, error) {
	// Accept the file before or after the flags, as etcdctl does.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" || fs.NArg() > 1 || (fs.NArg() == 1 && file != fs.Arg(0)) {
		return "", errors.New("name exactly one snapshot file")
	}
	return file, nil
}

// clientFlags are etcdctl's connection flags.
type clientFlags struct {
	endpoints, cacert, cert, key string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoints, "endpoints", "127.0.0.1:2379", "the server (host:port, https://host:port or unix://path)")
	fs.StringVar(&c.cacert, "cacert", "", "CA to verify the server's certificate (turns TLS on)")
	fs.StringVar(&c.cert, "cert", "", "client certificate (turns TLS on)")
	fs.StringVar(&c.key, "key", "", "client key")
}

func (c *clientFlags) dial() (*grpc.ClientConn, error) {
	target := strings.Split(c.endpoints, ",")[0]
	secure := strings.HasPrefix(target, "https://") || c.cacert != "" || c.cert != ""
	target = strings.TrimPrefix(strings.TrimPrefix(target, "https://"), "http://")
	creds := insecure.NewCredentials()
	if secure {
		t := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.cacert != "" {
			pem, err := os.ReadFile(c.cacert)
			if err != nil {
				return nil, err
			}
			t.RootCAs = x509.NewCertPool()
			if !t.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s holds no PEM certificate", c.cacert)
			}
		}
		if c.cert != "" {
			kp, err := tls.LoadX509KeyPair(c.cert, c.key)
			if err != nil {
				return nil, err
			}
			t.Certificates = []tls.Certificate{kp}
		}
		creds = credentials.NewTLS(t)
	}
	return grpc.NewClient(target, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
}

// snapshotSave streams Maintenance.Snapshot to file.part, checks etcd's
// trailing SHA-256 of the data, and renames it to file.
func snapshotSave(args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata snapshot save", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	file, err := parseFile(fs, args)
	if err != nil {
		return err
	}
	conn, err := cf.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := pb.NewMaintenanceClient(conn).Snapshot(ctx, &pb.SnapshotRequest{})
	if err != nil {
		return err
	}
	part := file + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(part) // after the rename, a no-op
	n, err := receiveSnapshot(stream, f, newProgress(stderr))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(part, file); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Snapshot saved at %s (%s, SHA-256 verified)\n", file, humanBytes(n))
	return nil
}

// receiveSnapshot writes the data of a snapshot stream to w. The last
// message is etcd's SHA-256 of the data: each message is held back until
// the next arrives, so that the last one is checked, not written.
func receiveSnapshot(stream pb.Maintenance_SnapshotClient, w io.Writer, p *progress) (int64, error) {
	h := sha256.New()
	var held []byte
	var n int64
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if held != nil {
			if _, err := w.Write(held); err != nil {
				return n, err
			}
			h.Write(held)
			n += int64(len(held))
		}
		held = resp.Blob
		p.update(n+int64(len(held)), n+int64(len(held))+int64(resp.RemainingBytes))
	}
	p.done()
	if len(held) != sha256.Size {
		return n, errors.New("the stream did not end with a SHA-256: the server is not etcd-compatible or the copy was cut")
	}
	if !bytes.Equal(held, h.Sum(nil)) {
		return n, errors.New("SHA-256 mismatch: the copy is corrupt")
	}
	return n, nil
}

// openSnapshot returns the database bytes of a snapshot file: as
// strata saves it, or as etcdctl saves it (with the SHA-256 appended, which
// is checked and removed).
func openSnapshot(file string) (io.Reader, int64, func() error, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	magic := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != sqliteMagic {
		f.Close()
		return nil, 0, nil, fmt.Errorf("%s is not a SQLite snapshot (a PostgreSQL or MySQL datastore is backed up with pg_dump or mysqldump)", file)
	}
	size := st.Size()
	if size%512 == sha256.Size { // etcdctl's layout: the hash follows the data
		size -= sha256.Size
		if err := checkAppendedHash(f, size); err != nil {
			f.Close()
			return nil, 0, nil, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return io.LimitReader(f, size), size, f.Close, nil
}

func checkAppendedHash(f *os.File, size int64) error {
	h := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.CopyN(h, f, size); err != nil {
		return err
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return err
	}
	if !bytes.Equal(want, h.Sum(nil)) {
		return errors.New("the appended SHA-256 does not match: the snapshot is corrupt")
	}
	return nil
}

// copySnapshot writes the database of a snapshot file to the new file dst.
func copySnapshot(file, dst string, stderr io.Writer) error {
	r, size, closeSrc, err := openSnapshot(file)
	if err != nil {
		return err
	}
	defer closeSrc()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	p := newProgress(stderr)
	_, err = io.Copy(out, &progressReader{r: r, p: p, total: size})
	p.done()
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
