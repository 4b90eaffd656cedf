"""Field numbers of the k8s.io/api messages Berth reads from protobuf bodies.

Each message is ``"<number> <jsonName> <type>; ..."`` as in k8s.io/api's generated.proto
(core/v1, batch/v1, apimachinery meta/v1). Types: ``s`` string, ``b`` bool, ``i32``/``i64``,
``bytes`` (base64 in JSON), ``time`` (meta/v1 Time), ``qty`` (resource.Quantity), ``ios``
(intstr.IntOrString), ``json`` (meta/v1 FieldsV1), or a message name. ``[T]`` is repeated,
``{T}`` a map<string, T>, a trailing ``?`` a Go pointer (its zero value is kept), and the JSON
name ``-`` an embedded struct whose fields JSON inlines.

Status messages are left out on purpose: the server ignores a client's status on create.
"""

from __future__ import annotations

_META = {
    "ObjectMeta": "1 name s; 2 generateName s; 3 namespace s; 4 selfLink s; 5 uid s; "
    "6 resourceVersion s; 7 generation i64; 8 creationTimestamp time; "
    "9 deletionTimestamp time; 10 deletionGracePeriodSeconds i64?; 11 labels {s}; "
    "12 annotations {s}; 13 ownerReferences [OwnerReference]; 14 finalizers [s]; "
    "17 managedFields [ManagedFieldsEntry]",
    "OwnerReference": "1 kind s; 3 name s; 4 uid s; 5 apiVersion s; 6 controller b?; "
    "7 blockOwnerDeletion b?",
    "ManagedFieldsEntry": "1 manager s; 2 operation s; 3 apiVersion s; 4 time time; "
    "6 fieldsType s; 7 fieldsV1 json; 8 subresource s",
    "LabelSelector": "1 matchLabels {s}; 2 matchExpressions [LabelSelectorRequirement]",
    "LabelSelectorRequirement": "1 key s; 2 operator s; 3 values [s]",
}

_CORE_OBJECTS = {
    "ConfigMap": "1 metadata ObjectMeta; 2 data {s}; 3 binaryData {bytes}; 4 immutable b?",
    "Secret": "1 metadata ObjectMeta; 2 data {bytes}; 3 type s; 4 stringData {s}; 5 immutable b?",
    "Namespace": "1 metadata ObjectMeta; 2 spec NamespaceSpec",
    "NamespaceSpec": "1 finalizers [s]",
    "Pod": "1 metadata ObjectMeta; 2 spec PodSpec",
    "PodTemplateSpec": "1 metadata ObjectMeta; 2 spec PodSpec",
}

_POD_SPEC = {
    "PodSpec": "1 volumes [Volume]; 2 containers [Container]; 3 restartPolicy s; "
    "4 terminationGracePeriodSeconds i64?; 5 activeDeadlineSeconds i64?; "
    "6 dnsPolicy s; 7 nodeSelector {s}; 8 serviceAccountName s; 9 serviceAccount s; "
    "10 nodeName s; 11 hostNetwork b; 12 hostPID b; 13 hostIPC b; "
    "14 securityContext PodSecurityContext; 15 imagePullSecrets [LocalObjectReference]; "
    "16 hostname s; 17 subdomain s; 18 affinity Affinity; 19 schedulerName s; "
    "20 initContainers [Container]; 21 automountServiceAccountToken b?; "
    "22 tolerations [Toleration]; 23 hostAliases [HostAlias]; 24 priorityClassName s; "
    "25 priority i32?; 26 dnsConfig PodDNSConfig; 27 shareProcessNamespace b?; "
    "28 readinessGates [PodReadinessGate]; 29 runtimeClassName s?; "
    "30 enableServiceLinks b?; 31 preemptionPolicy s?; 32 overhead {qty}; "
    "33 topologySpreadConstraints [TopologySpreadConstraint]; "
    "35 setHostnameAsFQDN b?; 36 os PodOS; 37 hostUsers b?; "
    "38 schedulingGates [PodSchedulingGate]",
    "Container": "1 name s; 2 image s; 3 command [s]; 4 args [s]; 5 workingDir s; "
    "6 ports [ContainerPort]; 7 env [EnvVar]; 8 resources ResourceRequirements; "
    "9 volumeMounts [VolumeMount]; 10 livenessProbe Probe; 11 readinessProbe Probe; "
    "12 lifecycle Lifecycle; 13 terminationMessagePath s; 14 imagePullPolicy s; "
    "15 securityContext SecurityContext; 16 stdin b; 17 stdinOnce b; 18 tty b; "
    "19 envFrom [EnvFromSource]; 20 terminationMessagePolicy s; "
    "22 startupProbe Probe; 23 resizePolicy [ContainerResizePolicy]; "
    "24 restartPolicy s?",
    "ContainerPort": "1 name s; 2 hostPort i32; 3 containerPort i32; 4 protocol s; 5 hostIP s",
    "ContainerResizePolicy": "1 resourceName s; 2 restartPolicy s",
    "EnvVar": "1 name s; 2 value s; 3 valueFrom EnvVarSource",
    "EnvVarSource": "1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector; "
    "3 configMapKeyRef ConfigMapKeySelector; 4 secretKeyRef SecretKeySelector",
    "ObjectFieldSelector": "1 apiVersion s; 2 fieldPath s",
    "ResourceFieldSelector": "1 containerName s; 2 resource s; 3 divisor qty",
    "ConfigMapKeySelector": "1 - LocalObjectReference; 2 key s; 3 optional b?",
    "SecretKeySelector": "1 - LocalObjectReference; 2 key s; 3 optional b?",
    "EnvFromSource": "1 prefix s; 2 configMapRef ConfigMapEnvSource; 3 secretRef SecretEnvSource",
    "ConfigMapEnvSource": "1 - LocalObjectReference; 2 optional b?",
    "SecretEnvSource": "1 - LocalObjectReference; 2 optional b?",
    "LocalObjectReference": "1 name s",
    "ResourceRequirements": "1 limits {qty}; 2 requests {qty}; 3 claims [ResourceClaim]",
    "ResourceClaim": "1 name s; 2 request s",
    "VolumeMount": "1 name s; 2 readOnly b; 3 mountPath s; 4 subPath s; "
    "5 mountPropagation s?; 6 subPathExpr s; 7 recursiveReadOnly s?",
    "Probe": "1 - ProbeHandler; 2 initialDelaySeconds i32; 3 timeoutSeconds i32; "
    "4 periodSeconds i32; 5 successThreshold i32; 6 failureThreshold i32; "
    "7 terminationGracePeriodSeconds i64?",
    "ProbeHandler": "1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction; "
    "4 grpc GRPCAction",
    "ExecAction": "1 command [s]",
    "HTTPGetAction": "1 path s; 2 port ios; 3 host s; 4 scheme s; 5 httpHeaders [HTTPHeader]",
    "HTTPHeader": "1 name s; 2 value s",
    "TCPSocketAction": "1 port ios; 2 host s",
    "GRPCAction": "1 port i32; 2 service s?",
    "Lifecycle": "1 postStart LifecycleHandler; 2 preStop LifecycleHandler; 3 stopSignal s?",
    "LifecycleHandler": "1 exec ExecAction; 2 httpGet HTTPGetAction; "
    "3 tcpSocket TCPSocketAction; 4 sleep SleepAction",
    "SleepAction": "1 seconds i64",
    "SecurityContext": "1 capabilities Capabilities; 2 privileged b?; "
    "3 seLinuxOptions SELinuxOptions; 4 runAsUser i64?; 5 runAsNonRoot b?; "
    "6 readOnlyRootFilesystem b?; 7 allowPrivilegeEscalation b?; "
    "8 runAsGroup i64?; 9 procMount s?; 11 seccompProfile SeccompProfile",
    "Capabilities": "1 add [s]; 2 drop [s]",
    "SELinuxOptions": "1 user s; 2 role s; 3 type s; 4 level s",
    "SeccompProfile": "1 type s; 2 localhostProfile s?",
    "PodSecurityContext": "1 seLinuxOptions SELinuxOptions; 2 runAsUser i64?; "
    "3 runAsNonRoot b?; 4 supplementalGroups [i64]; 5 fsGroup i64?; "
    "6 runAsGroup i64?; 7 sysctls [Sysctl]; 9 fsGroupChangePolicy s?; "
    "10 seccompProfile SeccompProfile",
    "Sysctl": "1 name s; 2 value s",
    "Toleration": "1 key s; 2 operator s; 3 value s; 4 effect s; 5 tolerationSeconds i64?",
    "HostAlias": "1 ip s; 2 hostnames [s]",
    "PodDNSConfig": "1 nameservers [s]; 2 searches [s]; 3 options [PodDNSConfigOption]",
    "PodDNSConfigOption": "1 name s; 2 value s?",
    "PodReadinessGate": "1 conditionType s",
    "PodSchedulingGate": "1 name s",
    "PodOS": "1 name s",
}

_SCHEDULING = {
    "Affinity": "1 nodeAffinity NodeAffinity; 2 podAffinity PodAffinity; "
    "3 podAntiAffinity PodAntiAffinity",
    "NodeAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector; "
    "2 preferredDuringSchedulingIgnoredDuringExecution [PreferredSchedulingTerm]",
    "NodeSelector": "1 nodeSelectorTerms [NodeSelectorTerm]",
    "NodeSelectorTerm": "1 matchExpressions [NodeSelectorRequirement]; "
    "2 matchFields [NodeSelectorRequirement]",
    "NodeSelectorRequirement": "1 key s; 2 operator s; 3 values [s]",
    "PreferredSchedulingTerm": "1 weight i32; 2 preference NodeSelectorTerm",
    "PodAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution [PodAffinityTerm]; "
    "2 preferredDuringSchedulingIgnoredDuringExecution [WeightedPodAffinityTerm]",
    "PodAntiAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution [PodAffinityTerm]; "
    "2 preferredDuringSchedulingIgnoredDuringExecution "
    "[WeightedPodAffinityTerm]",
    "PodAffinityTerm": "1 labelSelector LabelSelector; 2 namespaces [s]; 3 topologyKey s; "
    "4 namespaceSelector LabelSelector; 5 matchLabelKeys [s]; "
    "6 mismatchLabelKeys [s]",
    "WeightedPodAffinityTerm": "1 weight i32; 2 podAffinityTerm PodAffinityTerm",
    "TopologySpreadConstraint": "1 maxSkew i32; 2 topologyKey s; 3 whenUnsatisfiable s; "
    "4 labelSelector LabelSelector; 5 minDomains i32?; "
    "6 nodeAffinityPolicy s?; 7 nodeTaintsPolicy s?; "
    "8 matchLabelKeys [s]",
}

_VOLUMES = {
    "Volume": "1 name s; 2 - VolumeSource",
    "VolumeSource": "1 hostPath HostPathVolumeSource; 2 emptyDir EmptyDirVolumeSource; "
    "6 secret SecretVolumeSource; 7 nfs NFSVolumeSource; "
    "10 persistentVolumeClaim PersistentVolumeClaimVolumeSource; "
    "16 downwardAPI DownwardAPIVolumeSource; 19 configMap ConfigMapVolumeSource; "
    "26 projected ProjectedVolumeSource",
    "HostPathVolumeSource": "1 path s; 2 type s?",
    "EmptyDirVolumeSource": "1 medium s; 2 sizeLimit qty",
    "SecretVolumeSource": "1 secretName s; 2 items [KeyToPath]; 3 defaultMode i32?; 4 optional b?",
    "ConfigMapVolumeSource": "1 - LocalObjectReference; 2 items [KeyToPath]; "
    "3 defaultMode i32?; 4 optional b?",
    "KeyToPath": "1 key s; 2 path s; 3 mode i32?",
    "NFSVolumeSource": "1 server s; 2 path s; 3 readOnly b",
    "PersistentVolumeClaimVolumeSource": "1 claimName s; 2 readOnly b",
    "DownwardAPIVolumeSource": "1 items [DownwardAPIVolumeFile]; 2 defaultMode i32?",
    "DownwardAPIVolumeFile": "1 path s; 2 fieldRef ObjectFieldSelector; "
    "3 resourceFieldRef ResourceFieldSelector; 4 mode i32?",
    "ProjectedVolumeSource": "1 sources [VolumeProjection]; 2 defaultMode i32?",
    "VolumeProjection": "1 secret SecretProjection; 2 downwardAPI DownwardAPIProjection; "
    "3 configMap ConfigMapProjection; "
    "4 serviceAccountToken ServiceAccountTokenProjection",
    "SecretProjection": "1 - LocalObjectReference; 2 items [KeyToPath]; 4 optional b?",
    "ConfigMapProjection": "1 - LocalObjectReference; 2 items [KeyToPath]; 4 optional b?",
    "DownwardAPIProjection": "1 items [DownwardAPIVolumeFile]",
    "ServiceAccountTokenProjection": "1 audience s; 2 expirationSeconds i64?; 3 path s",
}

_BATCH = {
    "Job": "1 metadata ObjectMeta; 2 spec JobSpec",
    "JobSpec": "1 parallelism i32?; 2 completions i32?; 3 activeDeadlineSeconds i64?; "
    "4 selector LabelSelector; 5 manualSelector b?; 6 template PodTemplateSpec; "
    "7 backoffLimit i32?; 8 ttlSecondsAfterFinished i32?; 9 completionMode s?; "
    "10 suspend b?; 11 podFailurePolicy PodFailurePolicy; 12 backoffLimitPerIndex i32?; "
    "13 maxFailedIndexes i32?; 14 podReplacementPolicy s?; 15 managedBy s?; "
    "16 successPolicy SuccessPolicy",
    "PodFailurePolicy": "1 rules [PodFailurePolicyRule]",
    "PodFailurePolicyRule": "1 action s; 2 onExitCodes PodFailurePolicyOnExitCodesRequirement; "
    "3 onPodConditions [PodFailurePolicyOnPodConditionsPattern]",
    "PodFailurePolicyOnExitCodesRequirement": "1 containerName s?; 2 operator s; 3 values [i32]",
    "PodFailurePolicyOnPodConditionsPattern": "1 type s; 2 status s",
    "SuccessPolicy": "1 rules [SuccessPolicyRule]",
    "SuccessPolicyRule": "1 succeededIndexes s?; 2 succeededCount i32?",
    "CronJob": "1 metadata ObjectMeta; 2 spec CronJobSpec",
    "CronJobSpec": "1 schedule s; 2 startingDeadlineSeconds i64?; 3 concurrencyPolicy s; "
    "4 suspend b?; 5 jobTemplate JobTemplateSpec; "
    "6 successfulJobsHistoryLimit i32?; 7 failedJobsHistoryLimit i32?; "
    "8 timeZone s?",
    "JobTemplateSpec": "1 metadata ObjectMeta; 2 spec JobSpec",
}

MESSAGES: dict[str, str] = {
    **_META,
    **_CORE_OBJECTS,
    **_POD_SPEC,
    **_SCHEDULING,
    **_VOLUMES,
    **_BATCH,
}

# (apiVersion, kind) of the envelope -> the message its raw bytes hold.
TOP_LEVEL: dict[tuple[str, str], str] = {
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "Namespace"): "Namespace",
    ("v1", "Pod"): "Pod",
    ("batch/v1", "Job"): "Job",
    ("batch/v1", "CronJob"): "CronJob",
}
