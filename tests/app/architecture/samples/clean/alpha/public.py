"""What modules that depend on alpha may read."""


def patient_name(patient_id: str) -> str:
    return f"patient {patient_id}"
