package fakegitee

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

// git runs git in the bare repository dir with a fixed identity and no
// user or system configuration, so that results do not depend on the
// machine.
func git(dir string, stdin []byte, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"HOME=" + dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"PATH=" + os.Getenv("PATH"),
	}, env...)
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

// signature is a git author, committer or tagger.
type signature struct {
	Name, Email string
	When        time.Time
}

func (s signature) String() string {
	return fmt.Sprintf("%s <%s> %d +0800", s.Name, s.Email, s.When.Unix())
}

// fastImport writes a commit whose whole tree is files onto
// refs/heads/branch with git fast-import and returns the commit id.
func fastImport(dir, branch, parent, message string, author, committer signature, files map[string]File) (string, error) {
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
	if _, err := git(dir, b.Bytes(), nil, "fast-import", "--quiet", "--done", "--force"); err != nil {
		return "", err
	}
	return git(dir, nil, nil, "rev-parse", "refs/heads/"+branch)
}

// checkPath refuses paths fast-import would misread or a zip could not
// hold.
func checkPath(p string) error {
	switch {
	case p == "", strings.HasPrefix(p, "/"), strings.HasSuffix(p, "/"), strings.HasPrefix(p, `"`),
		strings.ContainsAny(p, "\x00\n"), strings.Contains(p, "//"):
		return fmt.Errorf("fakegitee: invalid file path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == ".git" {
			return fmt.Errorf("fakegitee: invalid file path %q", p)
		}
	}
	return nil
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
