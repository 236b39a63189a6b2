package payload

// Author is a commit's git author, as GitHub, GitLab and Gitee send it.
type Author struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}
