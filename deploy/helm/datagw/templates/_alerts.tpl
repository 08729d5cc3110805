{{/*
One alerting rule of the PrometheusRule: `alert` is its values (enabled,
severity, for, threshold), `expr` a printf format with %v for the threshold,
`summary` and `description` Prometheus templates (given as raw strings, so
Helm leaves their {{ $labels }} and {{ $value }} alone). The runbook is the
section of docs/operations.md named after the alert.
*/}}
{{- define "datagw.alert" -}}
{{- if .alert.enabled -}}
- alert: {{ .name }}
  expr: {{ printf .expr .alert.threshold | quote }}
  for: {{ .alert.for }}
  labels:
    severity: {{ .alert.severity }}
  annotations:
    summary: {{ .summary | quote }}
    description: {{ .description | quote }}
    runbook_url: {{ printf "%s#%s" .base (lower .name) | quote }}
{{- end }}
{{- end }}
