package fakegit

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Commit is a commit as the fakes' APIs describe it. Its slices are
// shared: read them, do not change them.
type Commit struct {
	SHA, Tree         string
	Parents           []string
	Message           string
	Author, Committer Signature
	// Files are the paths of the tree Repo.Commit wrote, sorted; empty for
	// a commit read with ReadCommit or recorded with AddCommit.
	Files []string
}

// Tag is an annotated tag object.
type Tag struct {
	SHA, Name string
	// Target is the commit the tag points to.
	Target  string
	Message string
	Tagger  Signature
}

// Repo is a bare repository on disk and what a fake knows of it: the
// branches, tags and commits written through it, and the generated
// archives it serves. Its methods are safe for concurrent use.
type Repo struct {
	dir string

	mu         sync.Mutex // serialises writes and guards the maps
	heads      map[string]string
	tags       map[string]string // name → commit, or tag object
	commits    map[string]Commit
	tagObjects map[string]Tag
	generated  map[string]Archive

	zipMu sync.Mutex // serialises the making of cached archives
}

// Init creates a bare repository in dir, with its parents, whose HEAD is
// branch.
func Init(dir, branch string) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := Run(dir, nil, nil, "init", "--quiet", "--bare", "--initial-branch="+branch); err != nil {
		return nil, err
	}
	return &Repo{
		dir:   dir,
		heads: map[string]string{}, tags: map[string]string{},
		commits: map[string]Commit{}, tagObjects: map[string]Tag{},
		generated: map[string]Archive{},
	}, nil
}

// Dir returns the repository's directory.
func (r *Repo) Dir() string { return r.dir }

// Git runs git in the repository as Run does.
func (r *Repo) Git(stdin []byte, env []string, args ...string) (string, error) {
	return Run(r.dir, stdin, env, args...)
}

// Commit writes a commit whose whole tree is files (a file of the branch's
// previous commit that files omits is removed) on top of branch, which is
// created when it does not exist, and returns it.
func (r *Repo) Commit(branch, message string, author, committer Signature, files map[string]File) (Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	parent := r.heads[branch]
	var b bytes.Buffer
	fmt.Fprintf(&b, "commit refs/heads/%s\n", branch)
	fmt.Fprintf(&b, "author %s\ncommitter %s\n", author, committer)
	fmt.Fprintf(&b, "data %d\n%s\n", len(message), message)
	if parent != "" {
		fmt.Fprintf(&b, "from %s\n", parent)
	}
	b.WriteString("deleteall\n")
	paths := make([]string, 0, len(files))
	for p := range files {
		if err := CheckPath(p); err != nil {
			return Commit{}, err
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := files[p]
		fmt.Fprintf(&b, "M %s inline %s\ndata %d\n", f.gitMode(), p, len(f.Content))
		b.Write(f.Content)
		b.WriteByte('\n')
	}
	b.WriteString("done\n")
	if _, err := r.Git(b.Bytes(), nil, "fast-import", "--quiet", "--done", "--force"); err != nil {
		return Commit{}, err
	}
	out, err := r.Git(nil, nil, "rev-parse", "refs/heads/"+branch, "refs/heads/"+branch+"^{tree}")
	if err != nil {
		return Commit{}, err
	}
	sha, tree, _ := strings.Cut(out, "\n")
	c := Commit{SHA: sha, Tree: tree, Message: message, Author: author, Committer: committer, Files: paths}
	if parent != "" {
		c.Parents = []string{parent}
	}
	r.commits[sha] = c
	r.heads[branch] = sha
	return c, nil
}

// Tag points refs/tags/name at target (a commit id or a branch), moving
// it if it exists, and returns the object the tag ref names. With a
// message the tag is annotated: a tag object by tagger, dated tagger.When
// or now when that is zero. Without one it is lightweight and names the
// commit.
func (r *Repo) Tag(name, target, message string, tagger Signature) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	args := []string{"tag", "--force", "--end-of-options", name, target}
	var env []string
	if message != "" {
		args = []string{"tag", "--annotate", "--force", "--message", message, "--end-of-options", name, target}
		env = []string{"GIT_COMMITTER_NAME=" + tagger.Name, "GIT_COMMITTER_EMAIL=" + tagger.Email}
		if !tagger.When.IsZero() {
			env = append(env, "GIT_COMMITTER_DATE="+strconv.FormatInt(tagger.When.Unix(), 10)+" "+tagger.When.Format("-0700"))
		}
	}
	if _, err := r.Git(nil, env, args...); err != nil {
		return "", err
	}
	out, err := r.Git(nil, nil, "rev-parse", "refs/tags/"+name, "refs/tags/"+name+"^{commit}")
	if err != nil {
		return "", err
	}
	obj, commit, _ := strings.Cut(out, "\n")
	r.tags[name] = obj
	if message != "" {
		r.tagObjects[obj] = Tag{SHA: obj, Name: name, Target: commit, Message: message, Tagger: tagger}
	}
	return obj, nil
}

// AddCommit records c, a commit git does not hold (one whose archive is
// generated), so that lookups find it; a commit already known is kept.
func (r *Repo) AddCommit(c Commit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.commits[c.SHA]; !ok {
		r.commits[c.SHA] = c
	}
}

// Head returns the commit branch points to, or "".
func (r *Repo) Head(branch string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.heads[branch]
}

// TagRef returns the object tag name points to: a commit, or a tag object.
func (r *Repo) TagRef(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	obj, ok := r.tags[name]
	return obj, ok
}

// TagNames returns the names of the tags, sorted.
func (r *Repo) TagNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.tags))
	for n := range r.tags {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TagObject returns the annotated tag object sha.
func (r *Repo) TagObject(sha string) (Tag, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tagObjects[sha]
	return t, ok
}

// LookupCommit returns the commit sha written or recorded through r.
func (r *Repo) LookupCommit(sha string) (Commit, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.commits[sha]
	return c, ok
}

// Peel returns the commit obj names, following annotated tags.
func (r *Repo) Peel(obj string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peelLocked(obj)
}

func (r *Repo) peelLocked(obj string) string {
	for {
		t, ok := r.tagObjects[obj]
		if !ok {
			return obj
		}
		obj = t.Target
	}
}

// Resolve returns the commit ref names, exactly: a branch, else a tag
// (peeled), else a commit written or recorded through r. It runs no git,
// so it takes no revision syntax; RevParse does.
func (r *Repo) Resolve(ref string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sha, ok := r.heads[ref]; ok {
		return sha, true
	}
	if obj, ok := r.tags[ref]; ok {
		return r.peelLocked(obj), true
	}
	if _, ok := r.commits[ref]; ok {
		return ref, true
	}
	return "", false
}

// RevParse returns the id of the object rev names, any revision git
// takes ("main", "refs/tags/v1^{commit}", a short id), or false when the
// repository holds no such object. A rev that starts with a dash, which git would read as an option,
// names nothing.
func (r *Repo) RevParse(rev string) (string, bool) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", false
	}
	out, err := r.Git(nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{object}")
	if err != nil || len(out) != 40 {
		return "", false
	}
	return out, true
}

// MergeBase returns the best common ancestor of the commits a and b, as
// hosts compute it for a compare.
func (r *Repo) MergeBase(a, b string) (string, error) {
	return r.Git(nil, nil, "merge-base", a, b)
}

// ThreeDot is a compare's "base...head", as GitHub and Gitee take it:
// the names on either side, the commits they name and their merge base.
type ThreeDot struct {
	Base, Head       string
	BaseSHA, HeadSHA string
	MergeBase        string
}

// ResolveThreeDot resolves basehead. found is false when it holds no
// "..." or a side names no commit; err is set when the two commits share
// no history.
func (r *Repo) ResolveThreeDot(basehead string) (td ThreeDot, found bool, err error) {
	base, head, ok := strings.Cut(basehead, "...")
	baseSHA, okBase := r.RevParse(base + "^{commit}")
	headSHA, okHead := r.RevParse(head + "^{commit}")
	if !ok || !okBase || !okHead {
		return ThreeDot{}, false, nil
	}
	td = ThreeDot{Base: base, Head: head, BaseSHA: baseSHA, HeadSHA: headSHA}
	td.MergeBase, err = r.MergeBase(baseSHA, headSHA)
	return td, true, err
}

// Commits returns the ids of the commits reachable from to and not from
// from (git rev-list from..to), oldest first.
func (r *Repo) Commits(from, to string) ([]string, error) {
	out, err := r.Git(nil, nil, "rev-list", "--reverse", from+".."+to)
	return strings.Fields(out), err
}

// ReadCommit reads the commit rev names from git, with its message exactly
// as stored and its times in UTC.
func (r *Repo) ReadCommit(rev string) (Commit, error) {
	sha, ok := r.RevParse(rev + "^{commit}")
	if !ok {
		return Commit{}, fmt.Errorf("fakegit: no commit %q", rev)
	}
	out, err := output(r.dir, nil, nil, "show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B", sha)
	if err != nil {
		return Commit{}, err
	}
	f := strings.SplitN(string(out), "\x00", 10)
	if len(f) != 10 {
		return Commit{}, fmt.Errorf("fakegit: unexpected git show output for %s", sha)
	}
	return Commit{
		SHA: f[0], Tree: f[1], Parents: strings.Fields(f[2]),
		Author:    Signature{Name: f[3], Email: f[4], When: unixUTC(f[5])},
		Committer: Signature{Name: f[6], Email: f[7], When: unixUTC(f[8])},
		// git show ends the format with a newline of its own.
		Message: strings.TrimSuffix(f[9], "\n"),
	}, nil
}

// Changes returns the paths commit sha added, modified (anything else
// than added or removed) and removed against its first parent, or all its
// files as added for a root commit.
func (r *Repo) Changes(sha string) (added, modified, removed []string, err error) {
	if strings.HasPrefix(sha, "-") {
		return nil, nil, nil, fmt.Errorf("fakegit: no commit %q", sha)
	}
	out, err := output(r.dir, nil, nil, "diff-tree", "-r", "-z", "--no-commit-id", "--no-renames", "--root", "--name-status", sha)
	if err != nil {
		return nil, nil, nil, err
	}
	parts := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i := 0; i+1 < len(parts); i += 2 {
		switch parts[i] {
		case "A":
			added = append(added, parts[i+1])
		case "D":
			removed = append(removed, parts[i+1])
		default:
			modified = append(modified, parts[i+1])
		}
	}
	return added, modified, removed, nil
}

func unixUTC(s string) time.Time {
	sec, _ := strconv.ParseInt(s, 10, 64)
	return time.Unix(sec, 0).UTC()
}
