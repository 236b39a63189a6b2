package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// knownTypes are the resource types the template may use.
var knownTypes = map[string]bool{
	"AWS::S3::Bucket":                 true,
	"AWS::S3::BucketPolicy":           true,
	"AWS::SQS::Queue":                 true,
	"AWS::Logs::LogGroup":             true,
	"AWS::IAM::Role":                  true,
	"AWS::Serverless::Function":       true,
	"AWS::CodeBuild::Project":         true,
	"AWS::CodePipeline::Pipeline":     true,
	"AWS::Events::Rule":               true,
	"AWS::Serverless::HttpApi":        true,
	"AWS::Lambda::Permission":         true,
	"AWS::Lambda::EventSourceMapping": true,
}

// starActions are the only actions allowed on Resource "*": the EC2
// calls Lambda makes for a function in a VPC take no resource-level
// permissions.
var starActions = map[string]bool{
	"ec2:CreateNetworkInterface":     true,
	"ec2:DescribeNetworkInterfaces":  true,
	"ec2:DeleteNetworkInterface":     true,
	"ec2:AssignPrivateIpAddresses":   true,
	"ec2:UnassignPrivateIpAddresses": true,
}

// implicitResources are made by the SAM transform and may be referenced.
var implicitResources = map[string]bool{"ServerlessHttpApi": true}

// intrinsic maps the YAML short tags to their JSON form.
var intrinsic = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!If": "Fn::If", "!Not": "Fn::Not",
	"!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
	"!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!GetAZs": "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue",
}

// decodeTemplate parses a CloudFormation YAML template into plain maps,
// slices and scalars, with each short tag turned into its long form
// ({"Fn::Sub": ...}) and !GetAtt A.B into ["A", "B"].
func decodeTemplate(b []byte) (map[string]any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	v, err := nodeValue(&root)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	return m, nil
}

func nodeValue(n *yaml.Node) (any, error) {
	var v any
	var err error
	switch n.Kind {
	case yaml.DocumentNode:
		return nodeValue(n.Content[0])
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if _, dup := m[n.Content[i].Value]; dup {
				return nil, fmt.Errorf("line %d: key %q twice", n.Content[i].Line, n.Content[i].Value)
			}
			if m[n.Content[i].Value], err = nodeValue(n.Content[i+1]); err != nil {
				return nil, err
			}
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			cv, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, cv)
		}
		v = s
	case yaml.ScalarNode:
		// Core tags (!!bool, !!int, ...) decode as YAML; a short tag's
		// argument is kept as written.
		if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
			var x any
			if err := n.Decode(&x); err != nil {
				return nil, err
			}
			v = x
		} else {
			v = n.Value
		}
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: aliases are not CloudFormation", n.Line)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	fn, ok := intrinsic[n.Tag]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	if n.Tag == "!GetAtt" {
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
	}
	return map[string]any{fn: v}, nil
}

// checkTemplate returns what is wrong with a template.
func checkTemplate(t map[string]any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	params, _ := t["Parameters"].(map[string]any)
	conds, _ := t["Conditions"].(map[string]any)
	resources, _ := t["Resources"].(map[string]any)
	if len(resources) == 0 {
		return []string{"no resources"}
	}

	// Every string: partition-aware ARNs, and references that resolve.
	subVar := regexp.MustCompile(`\$\{([^}!]+)\}`)
	known := func(name string) bool {
		name, _, _ = strings.Cut(name, ".")
		_, isParam := params[name]
		_, isRes := resources[name]
		return isParam || isRes || implicitResources[name] || strings.HasPrefix(name, "AWS::")
	}
	walk(t, func(path string, v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "arn:aws:") || strings.Contains(x, "arn:aws-cn:") {
				bad("%s: literal partition in %q: use ${AWS::Partition}", path, x)
			}
			if strings.Contains(x, "amazonaws.com.cn") {
				bad("%s: literal China domain in %q: use ${AWS::URLSuffix}", path, x)
			}
		case map[string]any:
			if r, ok := x["Ref"].(string); ok && !known(r) {
				bad("%s: !Ref %s names nothing", path, r)
			}
			if g, ok := x["Fn::GetAtt"].([]any); ok && len(g) > 0 {
				if r, _ := g[0].(string); !known(r) {
					bad("%s: !GetAtt %v names nothing", path, g)
				}
			}
			if s, ok := x["Fn::Sub"].(string); ok {
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					if !known(m[1]) {
						bad("%s: ${%s} in !Sub names nothing", path, m[1])
					}
				}
			}
			if c, ok := x["Fn::If"].([]any); ok && len(c) == 3 {
				if name, _ := c[0].(string); conds[name] == nil {
					bad("%s: !If on unknown condition %q", path, name)
				}
			}
			if s, ok := x["Fn::Sub"].(string); ok && strings.Contains(s, "arn:") && !strings.Contains(s, "arn:${AWS::Partition}:") {
				bad("%s: ARN %q without ${AWS::Partition}", path, s)
			}
		}
	})

	names := make([]string, 0, len(resources))
	for name := range resources {
		names = append(names, name)
	}
	sort.Strings(names)
	var sourceBucket map[string]any
	var sawSourceAction, sawBatchFailures, sawRule bool
	for _, name := range names {
		r, _ := resources[name].(map[string]any)
		typ, _ := r["Type"].(string)
		props, _ := r["Properties"].(map[string]any)
		if !knownTypes[typ] {
			bad("%s: unexpected resource type %q", name, typ)
		}
		if c, ok := r["Condition"].(string); ok && conds[c] == nil {
			bad("%s: unknown condition %q", name, c)
		}
		switch typ {
		case "AWS::IAM::Role":
			if _, ok := props["ManagedPolicyArns"]; ok {
				bad("%s: managed policies are broader than the function needs", name)
			}
			for _, st := range statements(get(props, "AssumeRolePolicyDocument", "Statement")) {
				for _, svc := range strs(get(st, "Principal", "Service")) {
					if !regexp.MustCompile(`^[a-z0-9.-]+\.amazonaws\.com$`).MatchString(svc) {
						bad("%s: service principal %q: aws-cn uses the amazonaws.com form too", name, svc)
					}
				}
			}
			policies, _ := props["Policies"].([]any)
			for _, p := range policies {
				for _, st := range statements(get(p, "PolicyDocument", "Statement")) {
					checkStatement(name, st, bad)
				}
			}
		case "AWS::S3::Bucket":
			if _, ok := get(props, "NotificationConfiguration", "EventBridgeConfiguration").(map[string]any); ok {
				sourceBucket = props
				sourceBucket["name"] = name
			}
			if v := get(props, "PublicAccessBlockConfiguration"); v == nil {
				bad("%s: public access is not blocked", name)
			} else {
				for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
					if get(v, k) != true {
						bad("%s: %s is not true", name, k)
					}
				}
			}
			if alg := get(props, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm"); alg != "AES256" && alg != "aws:kms" {
				bad("%s: no default encryption", name)
			}
		case "AWS::SQS::Queue":
			if rp := get(props, "RedrivePolicy"); rp != nil {
				if get(rp, "deadLetterTargetArn", "Fn::GetAtt") == nil || get(rp, "maxReceiveCount") == nil {
					bad("%s: redrive policy without a dead-letter queue or maxReceiveCount", name)
				}
			}
		case "AWS::Serverless::Function":
			if get(props, "Runtime") != "provided.al2023" || get(props, "Handler") != "bootstrap" {
				bad("%s: want runtime provided.al2023 with handler bootstrap", name)
			}
			if a := strs(get(props, "Architectures")); len(a) != 1 || a[0] != "arm64" {
				bad("%s: architectures %v, want [arm64]", name, a)
			}
			if _, ok := props["Policies"]; ok {
				bad("%s: SAM policies next to an explicit role", name)
			}
			evs, _ := props["Events"].(map[string]any)
			for _, ev := range evs {
				if get(ev, "Type") == "SQS" {
					for _, rt := range strs(get(ev, "Properties", "FunctionResponseTypes")) {
						sawBatchFailures = sawBatchFailures || rt == "ReportBatchItemFailures"
					}
				}
			}
		case "AWS::CodePipeline::Pipeline":
			if get(props, "PipelineType") != "V2" {
				bad("%s: PipelineType is not V2", name)
			}
			stages, _ := props["Stages"].([]any)
			for _, s := range stages {
				actions, _ := get(s, "Actions").([]any)
				for _, a := range actions {
					if get(a, "ActionTypeId", "Provider") != "S3" {
						continue
					}
					sawSourceAction = true
					if p := get(a, "Configuration", "PollForSourceChanges"); p != false && p != "false" {
						bad("%s: the S3 source action polls (PollForSourceChanges %v): the EventBridge rule starts it", name, p)
					}
				}
			}
		case "AWS::Events::Rule":
			if d := strs(get(props, "EventPattern", "detail-type")); len(d) == 1 && d[0] == "Object Created" {
				sawRule = get(props, "Targets", 0, "RoleArn") != nil
			}
		}
	}
	switch {
	case sourceBucket == nil:
		bad("no bucket with EventBridge notifications on")
	default:
		name := sourceBucket["name"]
		if get(sourceBucket, "VersioningConfiguration", "Status") != "Enabled" {
			bad("%s: versioning is off: CodePipeline's S3 source needs it", name)
		}
		if get(sourceBucket, "NotificationConfiguration", "EventBridgeConfiguration", "EventBridgeEnabled") != true {
			bad("%s: EventBridge notifications are off", name)
		}
		rules, _ := get(sourceBucket, "LifecycleConfiguration", "Rules").([]any)
		abort := false
		for _, r := range rules {
			abort = abort || get(r, "AbortIncompleteMultipartUpload", "DaysAfterInitiation") != nil
		}
		if !abort {
			bad("%s: no lifecycle rule aborts incomplete multipart uploads", name)
		}
	}
	if !sawSourceAction {
		bad("no pipeline with an S3 source action")
	}
	if !sawBatchFailures {
		bad("no SQS event source with ReportBatchItemFailures")
	}
	if !sawRule {
		bad("no EventBridge rule on Object Created with a role")
	}
	return problems
}

// checkStatement checks one Allow statement of an IAM policy.
func checkStatement(role string, st map[string]any, bad func(string, ...any)) {
	if st["Effect"] != "Allow" {
		return
	}
	actions := strs(st["Action"])
	if len(actions) == 0 {
		bad("%s: a statement allows no action", role)
	}
	for _, a := range actions {
		if strings.Contains(a, "*") {
			bad("%s: wildcard action %q", role, a)
		}
	}
	if _, ok := st["NotAction"]; ok {
		bad("%s: NotAction allows everything else", role)
	}
	for _, r := range strs(st["Resource"]) {
		if r != "*" {
			continue
		}
		for _, a := range actions {
			if !starActions[a] {
				bad("%s: %s on Resource \"*\"", role, a)
			}
		}
	}
}

// statements returns the statements of a policy, both branches of an
// !If, without AWS::NoValue.
func statements(v any) []map[string]any {
	var out []map[string]any
	var add func(any)
	add = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				add(e)
			}
		case map[string]any:
			if c, ok := x["Fn::If"].([]any); ok && len(c) == 3 {
				add(c[1])
				add(c[2])
				return
			}
			if x["Ref"] == "AWS::NoValue" {
				return
			}
			out = append(out, x)
		}
	}
	add(v)
	return out
}

// get follows a path of keys and indexes; nil when it leads nowhere.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// strs returns a string or a list's strings; intrinsic functions count as
// one opaque string each.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strs(e)...)
		}
		return out
	case map[string]any:
		return []string{fmt.Sprint(x)}
	}
	return nil
}

func walk(v any, fn func(path string, v any)) {
	var rec func(string, any)
	rec = func(path string, v any) {
		fn(path, v)
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				rec(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				rec(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	rec("", v)
}

func TestTemplate(t *testing.T) {
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "arn:aws:") {
		t.Errorf("template.yaml holds a literal arn:aws:")
	}
	tmpl, err := decodeTemplate(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkTemplate(tmpl) {
		t.Error(p)
	}
}

// TestTemplateChecks proves that the checks catch what they look for, by
// breaking the template one way at a time.
func TestTemplateChecks(t *testing.T) {
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, want string
	}{
		{"literal partition", "arn:${AWS::Partition}:s3:::${SourceBucket}/*\n", "arn:aws:s3:::${SourceBucket}/*\n", "literal partition"},
		{"ARN without partition", "Resource: !GetAtt JobQueue.Arn", "Resource: !Sub arn:${AWS::Region}:sqs", "without ${AWS::Partition}"},
		{"service wildcard", "- sqs:SendMessage\n", "- sqs:*\n", `wildcard action "sqs:*"`},
		{"everything", "- sqs:SendMessage\n", "- \"*\"\n", `wildcard action "*"`},
		{"resource star", "Resource: !GetAtt JobQueue.Arn", `Resource: "*"`, `sqs:SendMessage on Resource "*"`},
		{"polling", "PollForSourceChanges: false", "PollForSourceChanges: true", "polls"},
		{"versioning", "Status: Enabled\n      BucketEncryption", "Status: Suspended\n      BucketEncryption", "versioning is off"},
		{"EventBridge", "EventBridgeEnabled: true", "EventBridgeEnabled: false", "EventBridge notifications are off"},
		{"unknown type", "Type: AWS::Logs::LogGroup", "Type: AWS::EC2::Instance", "unexpected resource type"},
		{"dangling Ref", "Location: !Ref ArtifactBucket", "Location: !Ref ArtefactBucket", "names nothing"},
		{"dangling Sub", "s3://${SourceBucket}", "s3://${SourceBukket}", "${SourceBukket} in !Sub names nothing"},
		{"China principal", "Service: lambda.amazonaws.com", "Service: !Sub lambda.${AWS::URLSuffix}", "service principal"},
		{"no batch failures", "- ReportBatchItemFailures", "- Nothing", "ReportBatchItemFailures"},
		{"unknown tag", "!GetAtt FunctionRole.Arn", "!GetAttr FunctionRole.Arn", "unknown tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(raw), tt.old) {
				t.Fatalf("the template has no %q", tt.old)
			}
			broken := strings.Replace(string(raw), tt.old, tt.new, 1)
			tmpl, err := decodeTemplate([]byte(broken))
			if err != nil {
				if strings.Contains(err.Error(), tt.want) {
					return
				}
				t.Fatal(err)
			}
			problems := strings.Join(checkTemplate(tmpl), "\n")
			if !strings.Contains(problems, tt.want) {
				t.Errorf("problems:\n%s\nwant one with %q", problems, tt.want)
			}
		})
	}
}
