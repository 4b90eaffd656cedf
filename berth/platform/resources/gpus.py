"""The vocabulary of GPU shares, one place for validation, the scheduler and the workers.

``berth.dev/gpu-milli`` is an extended resource of 1000 per GPU device: a pod asking for 460
takes 460 of one device, never split across devices. The scheduler writes the devices it chose
on the pod as the ``berth.dev/gpu-devices`` annotation (``"1"``, ``"0,3"``), and the node
agent shows the pod exactly those devices.
"""

GPU = "nvidia.com/gpu"
GPU_MILLI = "berth.dev/gpu-milli"
DEVICES_ANNOTATION = "berth.dev/gpu-devices"
DEVICE_MILLI = 1000
