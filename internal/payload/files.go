package payload

import "slices"

// Files are the file lists of a commit in a push payload, under the
// names GitHub, GitLab and Gitee give them. A list the payload does not
// send decodes to nil, an empty one to an empty slice. Embed Files in a
// provider's commit type to decode them with the commit.
type Files struct {
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Removed  []string `json:"removed"`
}

// FileLists returns f. It lets ChangedFiles read the lists of any commit
// type that embeds Files.
func (f *Files) FileLists() *Files { return f }

// Sent reports whether the payload sent any of the three lists, even
// empty ones.
func (f *Files) Sent() bool {
	return f.Added != nil || f.Modified != nil || f.Removed != nil
}

// ChangedFiles returns the sorted union of the paths in the file lists of
// commits, without empty paths; nil when there are none.
//
// Sorting and compacting one slice costs less than a set: big pushes list
// tens of thousands of paths.
func ChangedFiles[C any, P interface {
	*C
	FileLists() *Files
}](commits []C) []string {
	n := 0
	for i := range commits {
		f := P(&commits[i]).FileLists()
		n += len(f.Added) + len(f.Modified) + len(f.Removed)
	}
	if n == 0 {
		return nil
	}
	files := make([]string, 0, n)
	for i := range commits {
		f := P(&commits[i]).FileLists()
		files = append(files, f.Added...)
		files = append(files, f.Modified...)
		files = append(files, f.Removed...)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	if files[0] == "" {
		files = files[1:]
	}
	if len(files) == 0 {
		return nil
	}
	return slices.Clip(files)
}
