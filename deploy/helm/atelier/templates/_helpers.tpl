{{- /* Names and labels. The name is at most 23 characters so that a pod's name (name + 17) fits
ATELIER_BACKEND_ID (40 characters), which each backend takes from its pod's name. */ -}}
{{- define "atelier.fullname" -}}
{{- .Release.Name | trunc 23 | trimSuffix "-" -}}
{{- end }}

{{- define "atelier.selectorLabels" -}}
app.kubernetes.io/name: atelier
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "atelier.labels" -}}
{{ include "atelier.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "atelier.secretName" -}}
{{- .Values.secret.existingSecret | default (include "atelier.fullname" .) -}}
{{- end }}
