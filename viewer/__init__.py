"""VTK rendering: 2D views, MPR, overlays, hanging protocols (no Qt widgets).

slice_view.SliceView (one viewport), layout.ViewportGrid (viewports in one render window),
interaction.ViewerInteraction (mouse/keys), hanging (mammo4), mpr.reslice, render.render_to_png
(offscreen, EGL), annotations (replaceable texts), overlays/measure (plain values drawn by views).
"""
