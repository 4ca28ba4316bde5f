"""Column names of the AI4I 2020 table and the API's snake_case aliases.

These are the data's schema, not configuration: they are fixed by the dataset.
"""

from __future__ import annotations

UDI = "UDI"
PRODUCT_ID = "Product ID"
TYPE = "Type"
AIR_TEMP = "Air temperature [K]"
PROCESS_TEMP = "Process temperature [K]"
SPEED = "Rotational speed [rpm]"
TORQUE = "Torque [Nm]"
TOOL_WEAR = "Tool wear [min]"
TARGET = "Machine failure"
FAILURE_MODES: tuple[str, ...] = ("TWF", "HDF", "PWF", "OSF", "RNF")

ID_COLUMNS: tuple[str, ...] = (UDI, PRODUCT_ID)
NUMERIC_FEATURES: tuple[str, ...] = (AIR_TEMP, PROCESS_TEMP, SPEED, TORQUE, TOOL_WEAR)
FEATURE_COLUMNS: tuple[str, ...] = (TYPE, *NUMERIC_FEATURES)
LABEL_COLUMNS: tuple[str, ...] = (TARGET, *FAILURE_MODES)
ALL_COLUMNS: tuple[str, ...] = (*ID_COLUMNS, *FEATURE_COLUMNS, *LABEL_COLUMNS)
PRODUCT_TYPES: tuple[str, ...] = ("L", "M", "H")

INTEGER_COLUMNS: tuple[str, ...] = (UDI, SPEED, TOOL_WEAR, *LABEL_COLUMNS)

SNAKE_CASE: dict[str, str] = {
    TYPE: "type",
    AIR_TEMP: "air_temperature_k",
    PROCESS_TEMP: "process_temperature_k",
    SPEED: "rotational_speed_rpm",
    TORQUE: "torque_nm",
    TOOL_WEAR: "tool_wear_min",
}
FROM_SNAKE_CASE: dict[str, str] = {v: k for k, v in SNAKE_CASE.items()}
