"""The network's illustrative mix of imaging requests: each modality's share of all requests
and each exam family's share within its modality. One source for the synthetic history and
for the optimiser's stand-in demand, so the two describe the same network."""

from __future__ import annotations

from domain.vocabulary import ExamFamily, Modality

MODALITY_SHARE = {Modality.XR: 0.45, Modality.US: 0.33, Modality.CT: 0.14, Modality.MR: 0.08}

FAMILY_SHARE = {
    ExamFamily.XR_PLAIN: 0.93, ExamFamily.XR_FLUORO: 0.07,
    ExamFamily.US_ABDO_PELVIS: 0.45, ExamFamily.US_OBSTETRIC: 0.25, ExamFamily.US_MSK: 0.12,
    ExamFamily.US_VASCULAR: 0.10, ExamFamily.US_PAEDIATRIC: 0.08,
    ExamFamily.CT_PLAIN: 0.45, ExamFamily.CT_CONTRAST: 0.48, ExamFamily.CT_CARDIAC: 0.07,
    ExamFamily.MR_NEURO: 0.40, ExamFamily.MR_MSK: 0.30, ExamFamily.MR_BODY: 0.20,
    ExamFamily.MR_CARDIAC: 0.05, ExamFamily.MR_PAEDIATRIC: 0.05,
}
"""Share of the modality's requests (plain film dominates X-ray, general abdominal work
ultrasound; cardiac and paediatric lists are small). Each modality's shares add up to 1."""
