"""The spec built in torch: the modules, the model, Fig. 3 forms, export, models read back, the memory guard, devices.

Imports from core and costs."""
