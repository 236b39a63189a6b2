package fakegitlab

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// File is one file of a commit's tree.
type File struct {
	// Content is the file's bytes, or a symbolic link's target.
	Content []byte
	// Mode: fs.ModeSymlink for a symbolic link, an executable bit (0o755)
	// for an executable file; anything else is a regular file.
	Mode fs.FileMode
}

// gitMode returns the git tree mode of f.
func (f File) gitMode() string {
	switch {
	case f.Mode&fs.ModeSymlink != 0:
		return "120000"
	case f.Mode&0o111 != 0:
		return "100755"
	}
	return "100644"
}

// The fixed identities of the fake's commits and tags.
const (
	authorName  = "Jane Doe"
	authorEmail = "jane@example.com"
)

// git runs git in the bare repository dir with a fixed identity and no
// user or system configuration, so results do not depend on the machine.
func git(dir string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"HOME=" + dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=" + authorName,
		"GIT_AUTHOR_EMAIL=" + authorEmail,
		"GIT_COMMITTER_NAME=" + authorName,
		"GIT_COMMITTER_EMAIL=" + authorEmail,
		"LC_ALL=C",
		"PATH=" + os.Getenv("PATH"),
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// gitBytes runs git and returns its raw standard output.
func gitBytes(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out, nil
}

// fastImport writes a commit whose whole tree is files onto refs/heads/branch,
// on top of the branch's tip when it has one, and returns the commit id.
func fastImport(dir, branch, message string, when time.Time, files map[string]File) (string, error) {
	parent, _ := git(dir, nil, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	sig := fmt.Sprintf("%s <%s> %d +0000", authorName, authorEmail, when.Unix())
	var b bytes.Buffer
	fmt.Fprintf(&b, "commit refs/heads/%s\n", branch)
	fmt.Fprintf(&b, "author %s\ncommitter %s\n", sig, sig)
	fmt.Fprintf(&b, "data %d\n%s\n", len(message), message)
	if parent != "" {
		fmt.Fprintf(&b, "from %s\n", parent)
	}
	b.WriteString("deleteall\n")
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := checkPath(p); err != nil {
			return "", err
		}
		f := files[p]
		fmt.Fprintf(&b, "M %s inline %s\ndata %d\n", f.gitMode(), p, len(f.Content))
		b.Write(f.Content)
		b.WriteByte('\n')
	}
	b.WriteString("done\n")
	if _, err := git(dir, b.Bytes(), "fast-import", "--quiet", "--done", "--force"); err != nil {
		return "", err
	}
	return git(dir, nil, "rev-parse", "refs/heads/"+branch)
}

// checkPath refuses paths fast-import would misread or a zip could not hold.
func checkPath(p string) error {
	switch {
	case p == "", strings.HasPrefix(p, "/"), strings.HasSuffix(p, "/"), strings.HasPrefix(p, `"`),
		strings.ContainsAny(p, "\x00\n"), strings.Contains(p, "//"):
		return fmt.Errorf("fakegitlab: invalid file path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == ".git" {
			return fmt.Errorf("fakegitlab: invalid file path %q", p)
		}
	}
	return nil
}

// commitInfo is what the API and the deliveries tell of a commit.
type commitInfo struct {
	ID, Message, AuthorName, AuthorEmail string
	AuthoredDate, CommittedDate          time.Time
	Parents                              []string
	Added, Modified, Removed             []string
}

// readCommit reads a commit and the files it changed from its first
// parent (or all its files for a root commit).
func readCommit(dir, rev string) (commitInfo, error) {
	out, err := gitBytes(dir, "show", "-s", "--format=%H%x00%an%x00%ae%x00%at%x00%ct%x00%P%x00%B", rev+"^{commit}")
	if err != nil {
		return commitInfo{}, err
	}
	f := strings.SplitN(string(out), "\x00", 7)
	if len(f) != 7 {
		return commitInfo{}, fmt.Errorf("fakegitlab: unexpected git show output for %s", rev)
	}
	c := commitInfo{ID: f[0], AuthorName: f[1], AuthorEmail: f[2], Parents: strings.Fields(f[5])}
	c.Message = strings.TrimSuffix(f[6], "\n")
	var at, ct int64
	fmt.Sscan(f[3], &at)
	fmt.Sscan(f[4], &ct)
	c.AuthoredDate, c.CommittedDate = time.Unix(at, 0).UTC(), time.Unix(ct, 0).UTC()

	diff, err := gitBytes(dir, "diff-tree", "-r", "-z", "--no-commit-id", "--no-renames", "--root", "--name-status", c.ID)
	if err != nil {
		return commitInfo{}, err
	}
	parts := strings.Split(strings.TrimSuffix(string(diff), "\x00"), "\x00")
	for i := 0; i+1 < len(parts); i += 2 {
		switch parts[i] {
		case "A":
			c.Added = append(c.Added, parts[i+1])
		case "D":
			c.Removed = append(c.Removed, parts[i+1])
		default:
			c.Modified = append(c.Modified, parts[i+1])
		}
	}
	return c, nil
}
