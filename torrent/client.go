package torrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	infohash_v2 "github.com/anacrolix/torrent/types/infohash-v2"
)

// Config is the BitTorrent client configuration shared by seeding and
// fetching. The zero value is private: TCP only, no DHT, no trackers, no
// PEX, no UPnP, peers only as given. Nothing is announced anywhere unless
// DHT or Trackers is set, and then only the infohashes of the torrents
// being seeded or fetched.
type Config struct {
	// ListenAddr is the TCP address to listen on. "" means
	// "127.0.0.1:0" (an ephemeral loopback port) when neither DHT nor
	// trackers are on, else ":0".
	ListenAddr string
	// DHT enables the mainline DHT (announces and lookups of our
	// infohashes only) and PEX.
	DHT bool
	// Trackers are announce URLs added to every torrent.
	Trackers []string
	// UTP enables uTP (UDP) besides TCP.
	UTP bool
	// Encrypt prefers BEP 8 (MSE) header obfuscation; off by default,
	// because RC4 costs more CPU than the loopback link.
	Encrypt bool
	// Limits bound what a fetch accepts from an untrusted torrent.
	Limits Limits
	// Debug logs the client's messages to stderr.
	Debug bool
}

func (c Config) listenAddr() string {
	if c.ListenAddr != "" {
		return c.ListenAddr
	}
	if c.DHT || len(c.Trackers) > 0 {
		return ":0"
	}
	return "127.0.0.1:0"
}

// refuseStorage is the client's default storage: every torrent is added
// with its own, so any other use is a bug.
type refuseStorage struct{}

func (refuseStorage) OpenTorrent(context.Context, *metainfo.Info, metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{}, errors.New("torrent: no storage for this torrent")
}

func newClient(c Config, seed bool) (*atorrent.Client, error) {
	addr := c.listenAddr()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("torrent: listen address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("torrent: listen address %q: bad port", addr)
	}
	cc := atorrent.NewDefaultClientConfig()
	cc.SetListenAddr(addr)
	// An IP literal fixes the family: anacrolix would otherwise also try
	// to listen on the other one and fail.
	if ip := net.ParseIP(host); ip != nil {
		cc.DisableIPv6 = ip.To4() != nil
		cc.DisableIPv4 = ip.To4() == nil
	}
	cc.DefaultStorage = refuseStorage{}
	cc.DataDir = os.TempDir() // never written: every torrent has its own storage
	cc.NoDHT = !c.DHT
	cc.DisablePEX = !c.DHT
	cc.DisableTrackers = len(c.Trackers) == 0
	cc.NoDefaultPortForwarding = true
	cc.DisableUTP = !c.UTP
	cc.DisableWebtorrent = true
	cc.DisableWebseeds = true
	cc.Seed = seed
	cc.NoUpload = !seed
	cc.HeaderObfuscationPolicy = atorrent.HeaderObfuscationPolicy{Preferred: c.Encrypt}
	// The default (1 MiB) throttles a seeder on a fast link: each
	// connection may have this much requested data in flight.
	cc.MaxAllocPeerRequestDataPerConn = 16 << 20
	cc.MaxUnverifiedBytes = 256 << 20
	cc.PieceHashersPerTorrent = 2
	level := slog.LevelError + 100
	var w io.Writer = io.Discard
	if c.Debug {
		level, w = slog.LevelDebug, os.Stderr
	}
	cc.Slogger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	cl, err := atorrent.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("torrent: starting client on %s: %w", addr, err)
	}
	return cl, nil
}

// addTorrent adds a v2-only torrent. anacrolix v1.59.1 keys torrents by
// their v1 infohash and registers a v2-only torrent under the zero hash;
// passing the truncated v2 infohash as the "v1" hash makes it register
// under the hash peers use in v2 handshakes, and once the info is known it
// recognises the hash as the v2 one (Torrent.hashInfoBytes).
func addTorrent(cl *atorrent.Client, ih infohash_v2.T, infoBytes []byte, st storage.ClientImpl) *atorrent.Torrent {
	t, _ := cl.AddTorrentOpt(atorrent.AddTorrentOpts{
		InfoHash:  *ih.ToShort(),
		InfoBytes: infoBytes,
		Storage:   st,
	})
	return t
}

// listenAddr returns the client's bound TCP address.
func boundAddr(cl *atorrent.Client) string {
	for _, a := range cl.ListenAddrs() {
		if a.Network() == "tcp" {
			return a.String()
		}
	}
	if as := cl.ListenAddrs(); len(as) > 0 {
		return as[0].String()
	}
	return ""
}

func peerInfos(peers []string) []atorrent.PeerInfo {
	var out []atorrent.PeerInfo
	for _, p := range peers {
		out = append(out, atorrent.PeerInfo{Addr: atorrent.StringAddr(p), Source: atorrent.PeerSourceDirect, Trusted: false})
	}
	return out
}
