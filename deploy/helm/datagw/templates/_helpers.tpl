{{/*
Every helper takes the datagw chart's own context: this chart's templates pass
".", an application chart passes ".Subcharts.datagw" (see _sidecar.tpl), so
.Values, .Chart and .Files are datagw's in both cases.
*/}}

{{- define "datagw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "datagw.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "datagw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "datagw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "datagw.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "datagw.selectorLabels" . }}
app.kubernetes.io/version: {{ include "datagw.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "datagw.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "datagw.nativeSidecar" -}}
{{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}true{{ end }}
{{- end }}

{{/* The gRPC listen host: standalone serves the pod IP, a sidecar its pod only. */}}
{{- define "datagw.listenHost" -}}
{{- if .Values.server.listenHost }}
{{- .Values.server.listenHost }}
{{- else if eq .Values.mode "sidecar" }}127.0.0.1
{{- else }}0.0.0.0
{{- end }}
{{- end }}

{{- define "datagw.loopback" -}}
{{- $host := include "datagw.listenHost" . | trimPrefix "[" | trimSuffix "]" }}
{{- if or (hasPrefix "127." $host) (eq $host "localhost") (eq $host "::1") }}true{{ end }}
{{- end }}

{{/*
The probe mechanism. The kubelet sends gRPC probes to the pod IP, in
plaintext: a loopback listener or a TLS port never answers them. exec probes
run inside the container and reach the unix socket or loopback instead.
*/}}
{{- define "datagw.probeType" -}}
{{- $type := .Values.probes.type }}
{{- $loopback := include "datagw.loopback" . }}
{{- $tls := .Values.server.tls.enabled }}
{{- if eq $type "auto" }}
{{- $type = ternary "exec" "grpc" (or (eq $loopback "true") $tls) }}
{{- end }}
{{- if eq $type "grpc" }}
{{- if $loopback }}
{{- fail (printf "probes.type grpc: the kubelet probes the pod IP, which a gateway listening on %s never answers; use probes.type auto or exec, or server.listenHost 0.0.0.0" (include "datagw.listenHost" .)) }}
{{- end }}
{{- if $tls }}
{{- fail "probes.type grpc: kubelet gRPC probes speak plaintext and cannot check a TLS port; use probes.type auto or exec (they check over server.unixSocket)" }}
{{- end }}
{{- else if and $tls (not .Values.server.unixSocket.enabled) }}
{{- fail "server.tls.enabled needs server.unixSocket.enabled for the exec probes: they have no client certificate and check health over the plaintext socket" }}
{{- end }}
{{- $type }}
{{- end }}

{{/*
Bearer tokens: "true" when server.auth.jwt.issuer is set, after checking the
rest of server.auth.jwt is complete.
*/}}
{{- define "datagw.jwtEnabled" -}}
{{- $jwt := .Values.server.auth.jwt }}
{{- $sources := compact (list $jwt.jwksUrl $jwt.jwksConfigMap $jwt.jwksSecret) }}
{{- if $jwt.issuer }}
{{- if not $jwt.audience }}
{{- fail "server.auth.jwt.issuer needs server.auth.jwt.audience (the aud that tokens must carry)" }}
{{- end }}
{{- if ne (len $sources) 1 }}
{{- fail "server.auth.jwt needs exactly one of jwksUrl, jwksConfigMap or jwksSecret (the issuer's signing keys)" }}
{{- end }}
{{- "true" }}
{{- else if or $jwt.audience $sources }}
{{- fail "server.auth.jwt: set issuer as well (tokens are accepted only with issuer, audience and a JWKS)" }}
{{- end }}
{{- end }}

{{/*
What the TCP listener accepts in standalone mode, as a flow list: a client
certificate (mTLS) and a token (jwt), never `local`. A standalone gateway's
callers come through the Service, and a mesh proxy in the pod forwards them
from a loopback address (Istio: 127.0.0.6), which `local` would trust as the
pod itself. In-pod callers (probes, kubectl exec) use the unix socket.
*/}}
{{- define "datagw.standaloneTcpKinds" -}}
{{- $kinds := list }}
{{- if and .Values.server.tls.enabled .Values.server.tls.mtls }}
{{- $kinds = append $kinds "mtls" }}
{{- end }}
{{- if include "datagw.jwtEnabled" . }}
{{- $kinds = append $kinds "jwt" }}
{{- end }}
{{- printf "[%s]" (join ", " $kinds) }}
{{- end }}

{{/*
A standalone gateway serves the pod network: TLS, or plaintext on purpose,
and some way for a caller through the Service to be let in.
*/}}
{{- define "datagw.standaloneCheck" -}}
{{- if not (or .Values.server.tls.enabled .Values.server.insecurePlaintext) }}
{{- fail "mode standalone serves gRPC on the pod network and needs TLS: set server.tls.enabled: true with server.tls.secretName (a kubernetes.io/tls Secret; server.tls.mtls: true to require client certificates), or set server.insecurePlaintext: true to serve plaintext on purpose" }}
{{- end }}
{{- if and (eq (include "datagw.standaloneTcpKinds" .) "[]") (not .Values.server.auth.allowAnonymous) }}
{{- fail "mode standalone: callers through the Service would have no identity the gateway accepts; set server.tls.mtls: true, server.auth.jwt (issuer, audience and a JWKS), or server.auth.allowAnonymous: true" }}
{{- end }}
{{- end }}

{{/* The name of the local caller: local:<name>; empty leaves the gateway's default. */}}
{{- define "datagw.localName" -}}
{{- if .Values.server.auth.localName }}
{{- .Values.server.auth.localName }}
{{- else if eq .Values.mode "sidecar" }}
{{- .Release.Name }}
{{- end }}
{{- end }}

{{/* Where an in-container client reaches the gateway in plaintext. */}}
{{- define "datagw.localAddress" -}}
{{- if .Values.server.unixSocket.enabled }}
{{- printf "unix://%s" .Values.server.unixSocket.path }}
{{- else }}
{{- $host := include "datagw.listenHost" . }}
{{- if has $host (list "0.0.0.0" "::" "[::]") }}{{ $host = "127.0.0.1" }}{{ end }}
{{- printf "%s:%d" $host (.Values.server.port | int) }}
{{- end }}
{{- end }}

{{/* A probe; argument: (list <context> <probe values>). */}}
{{- define "datagw.probe" -}}
{{- $ctx := index . 0 }}
{{- $probe := index . 1 }}
{{- if eq (include "datagw.probeType" $ctx) "grpc" -}}
grpc:
  port: {{ $ctx.Values.server.port | int }}
  service: {{ $probe.service | quote }}
{{- else -}}
{{- /* `datagw health` (docs/deploy.md, Probes): exit 0 only when SERVING. */}}
exec:
  command:
    - datagw
    - health
    - --target
    - {{ include "datagw.localAddress" $ctx | quote }}
    - --service
    - {{ $probe.service | quote }}
    - --timeout
    - {{ $probe.timeoutSeconds | int | quote }}
{{- end }}
periodSeconds: {{ $probe.periodSeconds | int }}
timeoutSeconds: {{ $probe.timeoutSeconds | int }}
failureThreshold: {{ $probe.failureThreshold | int }}
{{- end }}

{{/* The config, all through DATAGW_* variables over the topology file. */}}
{{- define "datagw.env" -}}
- name: DATAGW_CONFIG
  value: {{ printf "/etc/datagw/topology/%s" .Values.topology.key | quote }}
- name: DATAGW_SERVER__LISTEN
  value: {{ printf "%s:%d" (include "datagw.listenHost" .) (.Values.server.port | int) | quote }}
{{- if .Values.server.unixSocket.enabled }}
- name: DATAGW_SERVER__UNIX_SOCKET
  value: {{ .Values.server.unixSocket.path | quote }}
{{- end }}
- name: DATAGW_SERVER__MAX_MESSAGE_BYTES
  value: {{ .Values.server.maxMessageBytes | int | quote }}
- name: DATAGW_SERVER__DEFAULT_DEADLINE
  value: {{ .Values.server.defaultDeadline | quote }}
- name: DATAGW_SERVER__MAX_CONCURRENT_RPCS
  value: {{ .Values.server.maxConcurrentRpcs | int | quote }}
- name: DATAGW_SERVER__WORKERS
  value: {{ .Values.server.workers | int | quote }}
- name: DATAGW_SERVER__SHUTDOWN_GRACE
  value: {{ printf "%ds" (.Values.server.shutdownGraceSeconds | int) | quote }}
{{- if .Values.server.tls.enabled }}
- name: DATAGW_SERVER__TLS__CERT_FILE
  value: /etc/datagw/tls/tls.crt
- name: DATAGW_SERVER__TLS__KEY_FILE
  value: /etc/datagw/tls/tls.key
{{- if .Values.server.tls.mtls }}
- name: DATAGW_SERVER__TLS__CLIENT_CA_FILE
  value: /etc/datagw/tls/ca.crt
{{- end }}
{{- end }}
{{- if and .Values.server.tls.enabled .Values.server.insecurePlaintext }}
{{- fail "server.insecurePlaintext and server.tls.enabled contradict each other: set only one" }}
{{- end }}
{{- if and .Values.server.tls.mtls (not .Values.server.tls.enabled) }}
{{- fail "server.tls.mtls needs server.tls.enabled: client certificates come with TLS" }}
{{- end }}
{{- if eq .Values.mode "standalone" }}
- name: DATAGW_SERVER__AUTH__TCP
  value: {{ include "datagw.standaloneTcpKinds" . | quote }}
{{- end }}
{{- with include "datagw.localName" . }}
- name: DATAGW_SERVER__AUTH__LOCAL_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.server.auth.allowAnonymous }}
- name: DATAGW_SERVER__AUTH__ALLOW_ANONYMOUS
  value: "true"
{{- end }}
{{- if include "datagw.jwtEnabled" . }}
{{- $jwt := .Values.server.auth.jwt }}
- name: DATAGW_SERVER__AUTH__JWT__ISSUER
  value: {{ $jwt.issuer | quote }}
- name: DATAGW_SERVER__AUTH__JWT__AUDIENCE
  value: {{ $jwt.audience | quote }}
{{- if $jwt.jwksUrl }}
- name: DATAGW_SERVER__AUTH__JWT__JWKS_URL
  value: {{ $jwt.jwksUrl | quote }}
{{- else }}
- name: DATAGW_SERVER__AUTH__JWT__JWKS_FILE
  value: {{ printf "/etc/datagw/jwks/%s" $jwt.jwksKey | quote }}
{{- end }}
- name: DATAGW_SERVER__AUTH__JWT__IDENTITY_CLAIM
  value: {{ $jwt.identityClaim | quote }}
- name: DATAGW_SERVER__AUTH__JWT__REFRESH
  value: {{ $jwt.refresh | quote }}
- name: DATAGW_SERVER__AUTH__JWT__CLOCK_SKEW
  value: {{ $jwt.clockSkew | quote }}
- name: DATAGW_SERVER__AUTH__JWT__ALGORITHMS
  value: {{ printf "[%s]" (join ", " $jwt.algorithms) | quote }}
{{- end }}
{{- /* An empty metrics.listen turns the metrics port off. */}}
- name: DATAGW_METRICS__LISTEN
  value: {{ ternary (printf "0.0.0.0:%d" (.Values.metrics.port | int)) "" .Values.metrics.enabled | quote }}
{{- /* Unset, the standard OTEL_* variables of extraEnv choose the exporter
     and its endpoint (docs/configuration.md, "Telemetry"). */}}
{{- with .Values.telemetry.exporter }}
- name: DATAGW_TELEMETRY__EXPORTER
  value: {{ . | quote }}
{{- end }}
{{- with .Values.telemetry.otlpEndpoint }}
- name: DATAGW_TELEMETRY__OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.telemetry.otlpProtocol }}
- name: DATAGW_TELEMETRY__OTLP_PROTOCOL
  value: {{ . | quote }}
{{- end }}
{{- /* Unset, the standard OTEL_SERVICE_NAME of extraEnv names the service. */}}
{{- with .Values.telemetry.serviceName }}
- name: DATAGW_TELEMETRY__SERVICE_NAME
  value: {{ . | quote }}
{{- end }}
- name: DATAGW_LOGGING__LEVEL
  value: {{ .Values.logging.level | quote }}
- name: DATAGW_LOGGING__FORMAT
  value: {{ .Values.logging.format | quote }}
- name: DATAGW_POLICIES_DIR
  value: /etc/datagw/policies
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "datagw.volumeMounts" -}}
- name: datagw-policies
  mountPath: /etc/datagw/policies
  readOnly: true
- name: datagw-topology
  mountPath: /etc/datagw/topology
  readOnly: true
{{- if .Values.server.tls.enabled }}
- name: datagw-tls
  mountPath: /etc/datagw/tls
  readOnly: true
{{- end }}
{{- if and (include "datagw.jwtEnabled" .) (not .Values.server.auth.jwt.jwksUrl) }}
- name: datagw-jwks
  mountPath: /etc/datagw/jwks
  readOnly: true
{{- end }}
{{- if .Values.server.unixSocket.enabled }}
- name: datagw-socket
  mountPath: {{ dir .Values.server.unixSocket.path }}
{{- end }}
{{- /* The root filesystem is read-only; anything calling tempfile needs /tmp. */}}
- name: datagw-tmp
  mountPath: /tmp
{{- end }}

{{- define "datagw.volumes" -}}
- name: datagw-policies
  configMap:
    name: {{ include "datagw.fullname" . }}-policies
- name: datagw-topology
  secret:
    secretName: {{ .Values.topology.existingSecret | quote }}
{{- if .Values.server.tls.enabled }}
- name: datagw-tls
  secret:
    secretName: {{ .Values.server.tls.secretName | quote }}
{{- end }}
{{- /* The whole object, not a subPath: the kubelet then updates the file in place. */}}
{{- with .Values.server.auth.jwt }}
{{- if and (include "datagw.jwtEnabled" $) .jwksConfigMap }}
- name: datagw-jwks
  configMap:
    name: {{ .jwksConfigMap | quote }}
    items:
      - key: {{ .jwksKey | quote }}
        path: {{ .jwksKey | quote }}
{{- else if and (include "datagw.jwtEnabled" $) .jwksSecret }}
- name: datagw-jwks
  secret:
    secretName: {{ .jwksSecret | quote }}
    items:
      - key: {{ .jwksKey | quote }}
        path: {{ .jwksKey | quote }}
{{- end }}
{{- end }}
{{- if .Values.server.unixSocket.enabled }}
- name: datagw-socket
  emptyDir:
    sizeLimit: 1Mi
{{- end }}
- name: datagw-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* The container, as one list entry of containers or initContainers. */}}
{{- define "datagw.container" -}}
{{- $native := include "datagw.nativeSidecar" . -}}
- name: datagw
  image: {{ printf "%s:%s" .Values.image.repository (include "datagw.imageTag" .) | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if $native }}
  restartPolicy: Always
  {{- end }}
  ports:
    {{- if not (include "datagw.loopback" .) }}
    - name: datagw-grpc
      containerPort: {{ .Values.server.port | int }}
      protocol: TCP
    {{- end }}
    {{- if .Values.metrics.enabled }}
    - name: datagw-metrics
      containerPort: {{ .Values.metrics.port | int }}
      protocol: TCP
    {{- end }}
  env:
    {{- include "datagw.env" . | nindent 4 }}
  volumeMounts:
    {{- include "datagw.volumeMounts" . | nindent 4 }}
  startupProbe:
    {{- include "datagw.probe" (list . .Values.probes.startup) | nindent 4 }}
  livenessProbe:
    {{- include "datagw.probe" (list . .Values.probes.liveness) | nindent 4 }}
  readinessProbe:
    {{- include "datagw.probe" (list . .Values.probes.readiness) | nindent 4 }}
  {{- if and (not $native) (gt (.Values.drain.preStopSleepSeconds | int) 0) }}
  lifecycle:
    preStop:
      sleep:
        seconds: {{ .Values.drain.preStopSleepSeconds | int }}
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
{{- end }}

{{/*
preStop sleep + the gateway's drain + closing pools. A native sidecar has no
preStop: the kubelet signals it only after the application has exited.
*/}}
{{- define "datagw.terminationGracePeriodSeconds" -}}
{{- $preStop := ternary 0 (.Values.drain.preStopSleepSeconds | int) (eq (include "datagw.nativeSidecar" .) "true") }}
{{- add $preStop (.Values.server.shutdownGraceSeconds | int) (.Values.drain.marginSeconds | int) }}
{{- end }}

{{/*
The policy files: from values, else the ones bundled with the chart; then
accessPolicy as access.yaml. Standalone needs an access policy from the
values: the bundled access.yaml is written for a sidecar (it trusts local:*).
*/}}
{{- define "datagw.policies" -}}
{{- $files := dict }}
{{- if .Values.policies }}
{{- $files = deepCopy .Values.policies }}
{{- else }}
{{- range $path, $content := .Files.Glob "files/policies/*.{yaml,yml}" }}
{{- $_ := set $files (base $path) (toString $content) }}
{{- end }}
{{- if not $files }}
{{- fail "no policies: set policies in values, or run scripts/dist_chart.sh first (it copies the repository's policies/ into the chart's files/policies)" }}
{{- end }}
{{- end }}
{{- $fromValues := hasKey .Values.policies "access.yaml" }}
{{- if .Values.accessPolicy }}
{{- if $fromValues }}
{{- fail "the access policy is given twice: set accessPolicy or policies.\"access.yaml\", not both" }}
{{- end }}
{{- $text := .Values.accessPolicy }}
{{- if not (kindIs "string" $text) }}
{{- $text = toYaml $text }}
{{- end }}
{{- if hasKey (fromYaml $text) "Error" }}
{{- fail (printf "accessPolicy is not a YAML mapping: %s" (get (fromYaml $text) "Error")) }}
{{- end }}
{{- $_ := set $files "access.yaml" (printf "%s\n" (trimSuffix "\n" $text)) }}
{{- else if and (eq .Values.mode "standalone") (not $fromValues) }}
{{- fail "mode standalone needs an access policy (who may call which methods): set accessPolicy to the content of an access.yaml (format: policies/access.yaml; e.g. --set-file accessPolicy=access.yaml)" }}
{{- end }}
{{- toYaml $files }}
{{- end }}

{{/*
Pods roll when a release changes the policies: every replica then runs the
new set, including a store or keyspace move that AdminService/ReloadPolicies
refuses without a restart.
*/}}
{{- define "datagw.podAnnotations" -}}
checksum/datagw-policies: {{ include "datagw.policies" . | sha256sum }}
{{- end }}
