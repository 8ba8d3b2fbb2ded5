package workshop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// StoreFile is the class's store in the data folder.
const StoreFile = "workshop.db"

// The store is one bbolt file: a B+tree in a single file, written in
// transactions (copy on write, then an fsync'd meta page: a crash leaves
// the last committed state), read by this process only (bbolt locks the
// file), mode 0600. Buckets:
var (
	bucketMeta      = []byte("meta")      // "token", "class", "started"
	bucketAttendees = []byte("attendees") // id → attendeeRecord (JSON)
	bucketCerts     = []byte("certs")     // hex serial → Cert (JSON)
)

// attendeeRecord is an attendee as stored: no password and no session
// secret, only their salted hashes (see Class.Join).
type attendeeRecord struct {
	ID           string                     `json:"id"`
	Name         string                     `json:"name"`
	Joined       time.Time                  `json:"joined"`
	Salt         []byte                     `json:"salt"`
	PasswordHash []byte                     `json:"passwordHash"`
	SessionHash  []byte                     `json:"sessionHash"`
	Progress     map[string]*LessonProgress `json:"progress,omitempty"`
}

// store wraps the bbolt file.
type store struct{ db *bolt.DB }

// openStore opens (or creates) the store in dir.
func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("workshop: %w", err)
	}
	path := filepath.Join(dir, StoreFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("workshop: %s is in use by another playground server (one class per data folder; give this one its own --data)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("workshop: opening %s: %w", path, err)
	}
	// bbolt creates the file 0600; an older file may be looser.
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		os.Chmod(path, 0o600)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketAttendees, bucketCerts} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("workshop: %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// meta returns a meta value, making it with make (and storing it) when
// there is none.
func (s *store) meta(key string, make func() string) (string, error) {
	var v string
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if old := b.Get([]byte(key)); old != nil {
			v = string(old)
			return nil
		}
		v = make()
		return b.Put([]byte(key), []byte(v))
	})
	return v, err
}

func (s *store) setMeta(key, value string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte(key), []byte(value)) })
}

func putJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put([]byte(key), b)
}

func (s *store) putAttendee(r *attendeeRecord) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketAttendees, r.ID, r) })
}

func (s *store) deleteAttendee(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketAttendees).Delete([]byte(id)) })
}

func (s *store) putCert(c Cert) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketCerts, c.Serial, c) })
}

// load reads every attendee and certificate.
func (s *store) load() (map[string]*attendeeRecord, map[string]Cert, error) {
	as, cs := map[string]*attendeeRecord{}, map[string]Cert{}
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketAttendees).ForEach(func(k, v []byte) error {
			r := new(attendeeRecord)
			if err := json.Unmarshal(v, r); err != nil {
				return fmt.Errorf("attendee %q: %w", k, err)
			}
			as[r.ID] = r
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketCerts).ForEach(func(k, v []byte) error {
			var c Cert
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("certificate %q: %w", k, err)
			}
			cs[c.Serial] = c
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("workshop: reading the store: %w", err)
	}
	return as, cs, nil
}

// clear forgets every attendee and certificate record (the class ended).
func (s *store) clear() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAttendees, bucketCerts} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete([]byte("started"))
	})
}
