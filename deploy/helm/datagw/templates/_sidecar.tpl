{{/*
The sidecar API for application charts. Declare datagw as a dependency, set
datagw.mode: sidecar, and pass the subchart's own context, .Subcharts.datagw:

  spec:
    terminationGracePeriodSeconds: {{ include "datagw.terminationGracePeriodSeconds" .Subcharts.datagw }}
    {{- with include "datagw.sidecar.initContainer" .Subcharts.datagw }}
    initContainers:
      {{- . | nindent 6 }}
    {{- end }}
    containers:
      - name: app
        env:
          - name: DATAGW_ADDRESS
            value: {{ include "datagw.sidecar.address" .Subcharts.datagw | quote }}
        volumeMounts:
          {{- include "datagw.sidecar.socketVolumeMount" .Subcharts.datagw | nindent 10 }}
      {{- include "datagw.sidecar.container" .Subcharts.datagw | nindent 6 }}
    volumes:
      {{- include "datagw.sidecar.volumes" .Subcharts.datagw | nindent 6 }}

Exactly one of datagw.sidecar.container and datagw.sidecar.initContainer
renders, as sidecar.native chooses. The pod template's annotations should
include datagw.sidecar.podAnnotations so pods roll on a policy change.
*/}}

{{- define "datagw.sidecar.check" -}}
{{- if ne .Values.mode "sidecar" }}
{{- fail "the datagw sidecar templates need mode: sidecar in the datagw values (datagw.mode in the application chart)" }}
{{- end }}
{{- end }}

{{- define "datagw.sidecar.container" -}}
{{- include "datagw.sidecar.check" . }}
{{- if not (include "datagw.nativeSidecar" .) }}
{{- include "datagw.container" . }}
{{- end }}
{{- end }}

{{- define "datagw.sidecar.initContainer" -}}
{{- include "datagw.sidecar.check" . }}
{{- if include "datagw.nativeSidecar" . }}
{{- include "datagw.container" . }}
{{- end }}
{{- end }}

{{- define "datagw.sidecar.volumes" -}}
{{- include "datagw.sidecar.check" . }}
{{- include "datagw.volumes" . }}
{{- end }}

{{/* For the application container: the shared emptyDir holding the socket. */}}
{{- define "datagw.sidecar.socketVolumeMount" -}}
{{- if .Values.server.unixSocket.enabled -}}
- name: datagw-socket
  mountPath: {{ dir .Values.server.unixSocket.path }}
{{- end }}
{{- end }}

{{/* The gRPC target the application dials. */}}
{{- define "datagw.sidecar.address" -}}
{{- include "datagw.localAddress" . }}
{{- end }}

{{- define "datagw.sidecar.podAnnotations" -}}
{{- include "datagw.podAnnotations" . }}
{{- end }}
