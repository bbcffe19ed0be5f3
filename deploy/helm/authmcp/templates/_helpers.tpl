{{- define "authmcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "authmcp.fullname" -}}
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

{{- define "authmcp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "authmcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "authmcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authmcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "authmcp.secretName" -}}
{{- default (include "authmcp.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "authmcp.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* The environment and mounts every authmcp container (replica or migration) gets. */}}
{{- define "authmcp.env" -}}
- name: AUTHMCP_CONFIG
  value: /config/authmcp.toml
- name: AUTHMCP_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ include "authmcp.secretName" . }}, key: database-url}
- name: AUTHMCP_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef: {name: {{ include "authmcp.secretName" . }}, key: encryption-keys}
- name: AUTHMCP_REQUEST_STATE_KEYS
  valueFrom:
    secretKeyRef: {name: {{ include "authmcp.secretName" . }}, key: request-state-keys}
- name: AUTHMCP_SHUTDOWN_GRACE
  value: {{ .Values.shutdownGrace | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "authmcp.volumeMounts" -}}
- name: config
  mountPath: /config
  readOnly: true
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "authmcp.volumes" -}}
- name: config
  secret:
    secretName: {{ include "authmcp.secretName" . }}
    items:
      - key: authmcp.toml
        path: authmcp.toml
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end }}
