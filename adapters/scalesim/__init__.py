"""SCALE-Sim (systolic-array cycle simulator) as a compute adapter; needs the scalesim extra."""
