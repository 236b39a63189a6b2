package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

const completionAbout = `Prints a completion script for bash, zsh or fish. Load it with:

  bash:  source <(gitsource completion bash)
  zsh:   source <(gitsource completion zsh)
  fish:  gitsource completion fish | source

or write it where the shell loads completions from.`

// commands lists the commands and how to build their flag sets, for help
// and completion.
var commands = []struct {
	name  string
	about string
	flags func(io.Writer) *flag.FlagSet
}{
	{"serve", "receive webhooks over HTTP", func(w io.Writer) *flag.FlagSet {
		fs, _ := newServeFlags(func(string) string { return "" }, w)
		return fs
	}},
	{"sync", "write one commit's archive now", func(w io.Writer) *flag.FlagSet { fs, _ := newSyncFlags(w); return fs }},
	{"send", "post a signed test delivery to an endpoint", func(w io.Writer) *flag.FlagSet { fs, _ := newSendFlags(w); return fs }},
	{"doctor", "check the configuration and what it points at", func(w io.Writer) *flag.FlagSet { fs, _ := newDoctorFlags(w); return fs }},
	{"completion", "print a shell completion script", func(w io.Writer) *flag.FlagSet {
		return newFlags("completion", "gitsource completion bash|zsh|fish", completionAbout, w)
	}},
	{"config", "check a routes file (GITSOURCE_CONFIG)", nil},
	{"version", "print the version", nil},
	{"help", "show help for a command", nil},
}

// providerNames are the built-in providers, the first argument of sync and
// send.
var providerNames = []string{"github", "gitlab", "bitbucket", "bitbucket-server", "gitee"}

func completionCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("completion", "gitsource completion bash|zsh|fish", completionAbout, stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	switch fs.Arg(0) {
	case "bash":
		fmt.Fprint(stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(stdout, zshCompletion())
	case "fish":
		fmt.Fprint(stdout, fishCompletion())
	default:
		fmt.Fprintf(stderr, "gitsource completion: unknown shell %q: want bash, zsh or fish\n", fs.Arg(0))
		return exitUsage
	}
	return exitOK
}

// flagInfo is one flag of a command.
type flagInfo struct {
	name, usage string
	boolean     bool
}

func flagsOf(name string) []flagInfo {
	for _, c := range commands {
		if c.name != name || c.flags == nil {
			continue
		}
		var out []flagInfo
		c.flags(io.Discard).VisitAll(func(f *flag.Flag) {
			bf, ok := f.Value.(interface{ IsBoolFlag() bool })
			out = append(out, flagInfo{f.Name, f.Usage, ok && bf.IsBoolFlag()})
		})
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out
	}
	return nil
}

func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
	}
	return out
}

// values lists the fixed values a flag or argument takes, for completion.
var values = map[string][]string{
	"sync --progress": {"auto", "bar", "log", "none"},
	"send --event":    {"push", "tag", "ping", "delete"},
	"send --mode":     {"token", "signing", "password", "signature"},
	"completion":      {"bash", "zsh", "fish"},
}

func bashCompletion() string {
	var b strings.Builder
	b.WriteString(`# bash completion for gitsource; load with: source <(gitsource completion bash)
_gitsource() {
    local cur prev cmd
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    cmd="${COMP_WORDS[1]}"
    if [[ ${COMP_CWORD} -eq 1 ]]; then
        COMPREPLY=($(compgen -W "` + strings.Join(commandNames(), " ") + `" -- "$cur"))
        return
    fi
    case "$cmd $prev" in
`)
	for _, k := range sortedKeys(values) {
		if !strings.Contains(k, " ") {
			continue
		}
		fmt.Fprintf(&b, "        %q) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", k, strings.Join(values[k], " "))
	}
	b.WriteString(`        "send --payload") COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    case "$cmd" in
`)
	for _, c := range commands {
		flags := flagsOf(c.name)
		var words []string
		for _, f := range flags {
			words = append(words, "--"+f.name)
		}
		words = append(words, "--help")
		var args []string
		switch c.name {
		case "sync", "send":
			args = providerNames
		case "completion":
			args = values["completion"]
		case "config":
			args = []string{"check"}
		case "help":
			args = commandNames()
		}
		fmt.Fprintf(&b, "        %s)\n", c.name)
		if args != nil {
			// The first argument, unless a flag is being typed.
			fmt.Fprintf(&b, "            if [[ $cur != -* && ${COMP_CWORD} -eq 2 ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(args, " "))
		}
		fmt.Fprintf(&b, "            [[ $cur == -* ]] && COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", strings.Join(words, " "))
	}
	b.WriteString(`    esac
}
complete -F _gitsource gitsource
`)
	return b.String()
}

func zshCompletion() string {
	var b strings.Builder
	b.WriteString(`#compdef gitsource
# zsh completion for gitsource; load with: source <(gitsource completion zsh)
_gitsource() {
    local -a commands
    commands=(
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "        %s\n", zshQuote(c.name+":"+c.about))
	}
	b.WriteString(`    )
    if (( CURRENT == 2 )); then
        _describe 'command' commands
        return
    fi
    case $words[2] in
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "        %s)\n            _arguments \\\n", c.name)
		for _, f := range flagsOf(c.name) {
			spec := "--" + f.name + "[" + zshEscape(f.usage) + "]"
			if !f.boolean {
				action := ":value:"
				if v, ok := values[c.name+" --"+f.name]; ok {
					action = ":value:(" + strings.Join(v, " ") + ")"
				} else if f.name == "payload" {
					action = ":file:_files"
				}
				spec += action
			}
			fmt.Fprintf(&b, "                %s \\\n", zshQuote(spec))
		}
		switch c.name {
		case "sync", "send":
			fmt.Fprintf(&b, "                %s \\\n", zshQuote("1:provider:("+strings.Join(providerNames, " ")+")"))
		case "completion":
			fmt.Fprintf(&b, "                %s \\\n", zshQuote("1:shell:(bash zsh fish)"))
		case "config":
			fmt.Fprintf(&b, "                %s \\\n", zshQuote("1:action:(check)"))
		case "help":
			fmt.Fprintf(&b, "                %s \\\n", zshQuote("1:command:("+strings.Join(commandNames(), " ")+")"))
		}
		b.WriteString("                '--help[show help]' ;;\n")
	}
	b.WriteString(`    esac
}
compdef _gitsource gitsource
`)
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# fish completion for gitsource; load with: gitsource completion fish | source\n")
	b.WriteString("complete -c gitsource -f\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "complete -c gitsource -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.about))
	}
	for _, name := range []string{"sync", "send"} {
		fmt.Fprintf(&b, "complete -c gitsource -n '__fish_seen_subcommand_from %s' -a %s\n", name, fishQuote(strings.Join(providerNames, " ")))
	}
	fmt.Fprintf(&b, "complete -c gitsource -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
	fmt.Fprintf(&b, "complete -c gitsource -n '__fish_seen_subcommand_from config' -a check -d %s\n", fishQuote("check a routes file"))
	for _, c := range commands {
		for _, f := range flagsOf(c.name) {
			line := fmt.Sprintf("complete -c gitsource -n '__fish_seen_subcommand_from %s' -l %s -d %s", c.name, f.name, fishQuote(firstSentence(f.usage)))
			if !f.boolean {
				line += " -r"
				if v, ok := values[c.name+" --"+f.name]; ok {
					line += " -a " + fishQuote(strings.Join(v, " "))
				} else if f.name == "payload" {
					line += " -F"
				}
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// zshQuote quotes s in single quotes for zsh.
func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// zshEscape escapes what _arguments reads specially inside [...].
func zshEscape(s string) string {
	return strings.NewReplacer("[", `\[`, "]", `\]`, ":", `\:`).Replace(firstSentence(s))
}

// fishQuote quotes s in single quotes for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// firstSentence shortens a flag's usage for a completion menu.
func firstSentence(s string) string {
	if i := strings.Index(s, ";"); i > 0 {
		s = s[:i]
	}
	return s
}
