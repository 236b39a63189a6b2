package fakegit

import (
	"strconv"
	"strings"
)

// Change is one file a diff touches, as the hosts' compare APIs report it.
type Change struct {
	Status         byte   // git's letter: A, M, D, R, C or T
	Path, OldPath  string // OldPath: the source of a rename or copy
	Added, Deleted int    // lines; 0 for a binary file
}

// Diff returns the files that differ between the commits from and to, with
// renames detected, as `git diff -M from to` sees them.
func (r *Repo) Diff(from, to string) ([]Change, error) {
	names, err := r.Git(nil, nil, "diff", "-z", "-M", "--name-status", from, to, "--")
	if err != nil {
		return nil, err
	}
	counts, err := r.Git(nil, nil, "diff", "-z", "-M", "--numstat", from, to, "--")
	if err != nil {
		return nil, err
	}
	var out []Change
	f := strings.Split(strings.TrimSuffix(names, "\x00"), "\x00")
	for i := 0; i+1 < len(f); i += 2 {
		c := Change{Status: f[i][0], Path: f[i+1]}
		if c.Status == 'R' || c.Status == 'C' {
			if i+2 >= len(f) {
				break
			}
			c.OldPath, c.Path = f[i+1], f[i+2]
			i++
		}
		out = append(out, c)
	}
	// --numstat -z: "added\tdeleted\tpath\0", or for a rename
	// "added\tdeleted\t\0old\0new\0"; in the order of --name-status.
	n := strings.Split(strings.TrimSuffix(counts, "\x00"), "\x00")
	for i, k := 0, 0; i < len(n) && k < len(out); i, k = i+1, k+1 {
		fields := strings.SplitN(n[i], "\t", 3)
		if len(fields) == 3 {
			out[k].Added, _ = strconv.Atoi(fields[0])
			out[k].Deleted, _ = strconv.Atoi(fields[1])
			if fields[2] == "" {
				i += 2 // the old and new paths follow
			}
		}
	}
	return out, nil
}
