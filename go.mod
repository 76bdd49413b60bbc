module github.com/plumbline/plumbline

go 1.26.8

require (
	github.com/shirou/gopsutil/v4 v4.26.10 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
)
