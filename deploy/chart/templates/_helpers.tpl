{{/* The release's full name, at most 63 characters. */}}
{{- define "gitops-tui.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "gitops-tui.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "gitops-tui.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels that select the reconciler's Pods. */}}
{{- define "gitops-tui.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: reconciler
{{- end -}}

{{/* The ServiceAccount the reconciler runs as. */}}
{{- define "gitops-tui.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gitops-tui.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The binding subject: the reconciler's ServiceAccount. */}}
{{- define "gitops-tui.subject" -}}
- kind: ServiceAccount
  name: {{ include "gitops-tui.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{/* Namespaces the reconciler's code names (gitops_tui/api/names.py): its Leases; KubeFedClusters and their kubeconfigs. */}}
{{- define "gitops-tui.systemNamespace" -}}gitops-tui-system{{- end -}}
{{- define "gitops-tui.federationNamespace" -}}kube-federation-system{{- end -}}
