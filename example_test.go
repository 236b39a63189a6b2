package gitsource_test

import (
	"fmt"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/provider"
)

func ExampleKeyTemplate() {
	tmpl, err := gitsource.ParseKeyTemplate("{provider}/{repo}/{ref}.zip")
	if err != nil {
		panic(err)
	}
	ev := provider.Event{
		Provider: "gitlab",
		Repo:     provider.Repo{Owner: "group/sub", Name: "app"},
		Ref:      provider.Ref{Name: "feature/login", Type: provider.Branch},
		Commit:   provider.Commit{SHA: "0123456789abcdef0123456789abcdef01234567", Message: "Add login\n\nDetails."},
	}
	fmt.Println(tmpl.Key(ev))
	fmt.Println(gitsource.Metadata(ev)[gitsource.MetaRevisionSummary])
	// Output:
	// gitlab/group/sub/app/feature/login.zip
	// Add login (0123456)
}
