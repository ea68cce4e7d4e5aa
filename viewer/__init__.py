"""VTK rendering: 2D views, MPR, overlays, hanging protocols."""
