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

{{/* grpc.health.v1 check for exec probes; argv: target, service, timeout. */}}
{{- define "datagw.healthScript" -}}
import sys
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
target, service, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
what = f"{service or 'server'} at {target}"
try:
    with grpc.insecure_channel(target) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout)
except grpc.RpcError as exc:
    sys.exit(f"{what}: {exc.code().name}")
if reply.status != health_pb2.HealthCheckResponse.SERVING:
    sys.exit(f"{what}: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}")
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
exec:
  command:
    - python
    - -c
    - |
{{- include "datagw.healthScript" $ctx | nindent 6 }}
    - {{ include "datagw.localAddress" $ctx | quote }}
    - {{ $probe.service | quote }}
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
{{- /* An empty metrics.listen turns the metrics port off. */}}
- name: DATAGW_METRICS__LISTEN
  value: {{ ternary (printf "0.0.0.0:%d" (.Values.metrics.port | int)) "" .Values.metrics.enabled | quote }}
- name: DATAGW_TELEMETRY__EXPORTER
  value: {{ .Values.telemetry.exporter | quote }}
{{- with .Values.telemetry.otlpEndpoint }}
- name: DATAGW_TELEMETRY__OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: DATAGW_TELEMETRY__SERVICE_NAME
  value: {{ .Values.telemetry.serviceName | quote }}
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

{{/* The policy files: from values, else the ones bundled with the chart. */}}
{{- define "datagw.policies" -}}
{{- if .Values.policies }}
{{- toYaml .Values.policies }}
{{- else }}
{{- $bundled := .Files.Glob "files/policies/*.{yaml,yml}" }}
{{- if not $bundled }}
{{- fail "no policies: set policies in values, or package the chart with files/policies" }}
{{- end }}
{{- $bundled.AsConfig }}
{{- end }}
{{- end }}

{{/*
Pods roll when a release changes the policies: every replica then runs the
new set, including a store or keyspace move that AdminService/ReloadPolicies
refuses without a restart.
*/}}
{{- define "datagw.podAnnotations" -}}
checksum/datagw-policies: {{ include "datagw.policies" . | sha256sum }}
{{- end }}
