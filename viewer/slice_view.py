"""One 2-D viewport: a slice of an :class:`ImageStack` shown as stored, with W/L and marks.

Scene space: x = column × column spacing, y = row × row spacing (mm), image at z = 0.
The camera looks along +z with view-up −y, so column 0 is at the left and row 0 at the
top of the screen (radiological display, as stored; VTK's bottom-up convention never
flips it). A horizontal flip (mammography hanging) turns the camera round instead of
touching pixels, so every layer (marks, AI boxes, heatmaps) follows the image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingAnnotation import vtkCornerAnnotation
from vtkmodules.vtkRenderingCore import (
    vtkActor2D,
    vtkCoordinate,
    vtkImageSlice,
    vtkPolyDataMapper2D,
    vtkProp,
    vtkRenderer,
    vtkRenderWindow,
    vtkTextActor,
    vtkTextMapper,
)

from imaging.pipeline import VoiWindow, presets_for_modality
from imaging.stack import ImageStack
from viewer import props
from viewer.annotations import AnnotationContext, CornerTexts, EnglishFormatter, TextFormatter
from viewer.measure import Angle, Distance, Measurement, Point
from viewer.orientation import EdgeLabels, stack_edge_labels
from viewer.overlays import CYAN, Box, Heatmap, OverlayBitmap, dashed_segments, plane_bitmaps
from viewer.reader_marks import MarkGlyph, glyph_props, nearest_mark
from viewer.windowing import dragged, lookup_table, stack_window

Side = Literal["left", "right"]
_BORDER = (0.25, 0.25, 0.25)
_ACTIVE_BORDER = (0.2, 0.6, 1.0)
# Distance of each layer in front of the image (mm toward the camera).
# "reader_marks": the radiologist's marks (reader_marks.py); "marks": distances and angles.
_DEPTH = {"heatmap": 1.0, "bitmap": 1.5, "boxes": 2.0, "reader_marks": 2.5, "marks": 3.0,
          "crosshair": 3.5}
_CROSSHAIR = (1.0, 0.85, 0.2)
_CORNER_FONT = 13
_MIN_ZOOM, _MAX_ZOOM = 0.02, 64.0


class SliceView:
    """A slice viewer living in one viewport of a vtkRenderWindow (no Qt)."""

    def __init__(self, render_window: vtkRenderWindow,
                 viewport: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0),
                 formatter: TextFormatter | None = None) -> None:
        self.render_window = render_window
        self.formatter: TextFormatter = formatter or EnglishFormatter()
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.0, 0.0, 0.0)
        self.renderer.SetViewport(*viewport)
        render_window.AddRenderer(self.renderer)
        camera = self.renderer.GetActiveCamera()
        camera.ParallelProjectionOn()
        self.listeners: list[Callable[[SliceView], None]] = []
        self.stack: ImageStack | None = None
        self.index = 0
        self.window: VoiWindow | None = None
        self.user_inverted = False
        self.flip_horizontal = False
        self.alignment: Side | None = None
        self.show_annotations = True
        self.measurements: list[Measurement] = []
        self.heatmap: Heatmap | None = None
        self.boxes: list[Box] = []
        self.bitmaps: list[OverlayBitmap] = []
        self._reader_marks: tuple[MarkGlyph, ...] = ()
        self._mark_preview: MarkGlyph | None = None  # what is being drawn or dragged
        self.ai_visible = True
        self.crosshair: Point | None = None  # (column, row) of the linked views' point
        # The stack's own DICOM overlay planes (60xx), drawn on their slices; kept across stacks.
        self.dicom_overlays_visible = True
        self._value_range = (0.0, 1.0)
        self._window_name = ""
        self._image_prop: vtkImageSlice | None = None
        self._layer_props: dict[str, list[vtkProp]] = {k: [] for k in _DEPTH}
        self._corners = _corner_annotation(_CORNER_FONT)
        self._edges = _corner_annotation(16)
        # The image number and position change on every scroll: a text of their own, since
        # any change to a vtkCornerAnnotation re-fits the fonts of all its corners (~5 ms).
        self._lower_left, self._lower_left_text = _corner_text()
        self._texts_shown: dict[tuple[str, int], str] = {}
        self._placeholder = vtkTextActor()
        self._placeholder.GetTextProperty().SetJustificationToCentered()
        self._placeholder.GetTextProperty().SetVerticalJustificationToCentered()
        self._placeholder.GetTextProperty().SetFontSize(20)
        self._placeholder.GetTextProperty().SetColor(0.6, 0.6, 0.6)
        self._placeholder.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self._placeholder.GetPositionCoordinate().SetValue(0.5, 0.5)
        self._border = _border_actor()
        for actor in (self._corners, self._edges, self._lower_left, self._placeholder,
                      self._border):
            self.renderer.AddViewProp(actor)

    # ------------------------------------------------------------------ content
    def set_stack(self, stack: ImageStack | None, *, index: int | None = None,
                  window: VoiWindow | None = None, placeholder: str = "") -> None:
        """Show ``stack`` (None: an empty viewport labelled ``placeholder``)."""
        self.stack = stack
        self.measurements, self.heatmap, self.boxes, self.bitmaps = [], None, [], []
        self._reader_marks, self._mark_preview = (), None
        self.crosshair = None
        self.user_inverted = False
        self._placeholder.SetInput(placeholder if stack is None else "")
        if self._image_prop is not None:
            self.renderer.RemoveViewProp(self._image_prop)
            self._image_prop = None
        if stack is None:
            self.window = None
            self._refresh()
            return
        self.index = min(max(index if index is not None else stack.count // 2, 0), stack.count - 1)
        if not stack.is_colour:
            # nanmin/nanmax: no copy of a 500-slice stack just to find its range.
            lo, hi = float(np.nanmin(stack.values)), float(np.nanmax(stack.values))
            if not (np.isfinite(lo) and np.isfinite(hi)):
                lo, hi = 0.0, 1.0
            self._value_range = (lo, hi if hi > lo else lo + 1.0)
        self.window = None if stack.is_colour else (window or self._default_window())
        self._window_name = "" if self.window is None else self.window.name
        # One vtkImageData over the whole stack, sharing its memory: scrolling only changes
        # the mapper's slice number (no copy, no new texture source per image).
        self._image_prop = props.stack_prop(props.stack_image_data(stack.values, self.spacing))
        self._image_prop.GetProperty().SetInterpolationTypeToLinear()
        self.renderer.AddViewProp(self._image_prop)
        props.show_slice(self._image_prop, self.index)
        self._apply_window()
        self._rebuild_layers()
        self.fit()

    def _default_window(self) -> VoiWindow:
        assert self.stack is not None
        return stack_window(self.stack, self.index)

    @property
    def count(self) -> int:
        return 0 if self.stack is None else self.stack.count

    @property
    def spacing(self) -> tuple[float, float]:
        if self.stack is None:
            return (1.0, 1.0)
        sx, sy = self.stack.spacing[0], self.stack.spacing[1]
        return (sx if sx > 0 else 1.0, sy if sy > 0 else 1.0)

    @property
    def inverted(self) -> bool:
        """What the screen shows: MONOCHROME1 inverted, XOR the user's toggle."""
        return bool(self.stack is not None and self.stack.invert) != self.user_inverted

    def _apply_window(self) -> None:
        if self._image_prop is None or self.stack is None:
            return
        prop = self._image_prop.GetProperty()
        if self.window is None:  # colour: shown as stored, inverted on request
            prop.SetLookupTable(None)
            prop.SetColorWindow(-255.0 if self.user_inverted else 255.0)
            prop.SetColorLevel(127.5)
            return
        prop.SetLookupTable(lookup_table(self.window, self._value_range, invert=self.inverted))
        prop.UseLookupTableScalarRangeOn()

    # ------------------------------------------------------------------ navigation
    def set_index(self, index: int) -> None:
        if self.stack is None:
            return
        index = min(max(index, 0), self.stack.count - 1)
        if index == self.index or self._image_prop is None:
            return
        previous, self.index = self.index, index
        props.show_slice(self._image_prop, index)
        if self._layers_change(previous, index):
            self._rebuild_layers()
        self._refresh()

    def scroll(self, delta: int) -> None:
        """Next (+) or previous (−) image, stopping at the ends."""
        self.set_index(self.index + delta)

    # ------------------------------------------------------------------ window
    def set_window(self, window: VoiWindow, name: str | None = None) -> None:
        if self.stack is None or self.stack.is_colour:
            return
        self.window = window
        self._window_name = window.name if name is None else name
        self._apply_window()
        self._refresh()

    @property
    def window_name(self) -> str:
        """The window's name as annotated ("" after a drag: a window of the user's own)."""
        return self._window_name

    @property
    def presets(self) -> list[VoiWindow]:
        if self.stack is None:
            return []
        default = self._default_window() if not self.stack.is_colour else None
        return presets_for_modality(self.stack.header.modality, default)

    def apply_preset(self, number: int) -> bool:
        """Preset ``number`` (1-based, the number keys); False when there is none."""
        available = self.presets
        if not 1 <= number <= len(available):
            return False
        self.set_window(available[number - 1])
        return True

    def window_level_drag(self, dx: float, dy: float) -> None:
        """Left-drag W/L: +dx widens, +dy (screen up, VTK's y) lowers the level: brighter."""
        if self.window is None:
            return
        span = self._value_range[1] - self._value_range[0]
        self.set_window(dragged(self.window, dx, dy, value_span=span), name="")

    def set_inverted(self, inverted: bool) -> None:
        """Make the screen show inverted grey levels (True) or not."""
        base = bool(self.stack is not None and self.stack.invert)
        self.user_inverted = inverted != base
        self._apply_window()
        self._refresh()

    def toggle_invert(self) -> None:
        self.user_inverted = not self.user_inverted
        self._apply_window()
        self._refresh()

    # ------------------------------------------------------------------ camera
    def viewport_size(self) -> tuple[int, int]:
        w, h = self.renderer.GetSize()
        if w <= 0 or h <= 0:
            ww, wh = self.render_window.GetSize()
            x0, y0, x1, y1 = self.renderer.GetViewport()
            w, h = round(ww * (x1 - x0)), round(wh * (y1 - y0))
        return max(w, 1), max(h, 1)

    def _image_bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the pixel edges in scene mm."""
        assert self.stack is not None
        sx, sy = self.spacing
        return (-sx / 2, (self.stack.columns - 0.5) * sx, -sy / 2, (self.stack.rows - 0.5) * sy)

    def _place_camera(self, focal_x: float, focal_y: float, scale: float) -> None:
        camera = self.renderer.GetActiveCamera()
        distance = 1000.0
        towards = 1.0 if self.flip_horizontal else -1.0  # camera side of the image
        camera.SetFocalPoint(focal_x, focal_y, 0.0)
        camera.SetPosition(focal_x, focal_y, towards * distance)
        camera.SetViewUp(0.0, -1.0, 0.0)
        camera.SetParallelScale(scale)
        camera.SetClippingRange(distance - 50.0, distance + 50.0)

    def fit(self) -> None:
        """Whole image in the viewport, centred (or against the chest-wall edge)."""
        if self.stack is None:
            return
        xmin, xmax, ymin, ymax = self._image_bounds()
        w, h = self.viewport_size()
        aspect = w / h
        scale = max((ymax - ymin) / 2, (xmax - xmin) / (2 * aspect)) * 1.02
        self._place_camera(self._aligned_focal_x(scale), (ymin + ymax) / 2, scale)
        self._refresh()

    def _aligned_focal_x(self, scale: float) -> float:
        xmin, xmax, _, _ = self._image_bounds()
        if self.alignment is None:
            return (xmin + xmax) / 2
        w, h = self.viewport_size()
        half_width = scale * w / h
        screen_right = -1.0 if self.flip_horizontal else 1.0
        # The scene x of the image edge that must touch the chosen viewport edge.
        if self.alignment == "right":
            edge = xmax if screen_right > 0 else xmin
            return edge - screen_right * half_width
        edge = xmin if screen_right > 0 else xmax
        return edge + screen_right * half_width

    def reset(self) -> None:
        """Back to how the image opened: file window, no invert, fitted."""
        if self.stack is None:
            return
        self.user_inverted = False
        if not self.stack.is_colour:
            self.window = self._default_window()
            self._window_name = self.window.name
        self._apply_window()
        self.fit()

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel (along the finer spacing)."""
        _, h = self.viewport_size()
        scale = self.renderer.GetActiveCamera().GetParallelScale()
        return h / (2.0 * scale) * min(self.spacing)

    def set_zoom(self, zoom: float, around: tuple[float, float] | None = None) -> None:
        """Set the zoom (1.0 = one image pixel per screen pixel), keeping ``around`` (display
        pixel) fixed on screen; default the viewport centre."""
        if self.stack is None:
            return
        zoom = min(max(zoom, _MIN_ZOOM), _MAX_ZOOM)
        camera = self.renderer.GetActiveCamera()
        fx, fy, _ = camera.GetFocalPoint()
        _, h = self.viewport_size()
        new_scale = h * min(self.spacing) / (2.0 * zoom)
        if around is not None:
            before = self.display_to_scene(*around)
            ratio = new_scale / camera.GetParallelScale()
            fx = before[0] + (fx - before[0]) * ratio
            fy = before[1] + (fy - before[1]) * ratio
        self._place_camera(fx, fy, new_scale)
        self._refresh()

    def zoom_by(self, factor: float, around: tuple[float, float] | None = None) -> None:
        self.set_zoom(self.zoom * factor, around)

    def one_to_one(self) -> None:
        self.set_zoom(1.0)

    def pan(self, dx: float, dy: float) -> None:
        """Move the image by (dx, dy) display pixels (VTK display: y up)."""
        if self.stack is None:
            return
        camera = self.renderer.GetActiveCamera()
        _, h = self.viewport_size()
        mm_per_px = 2.0 * camera.GetParallelScale() / h
        right = -1.0 if self.flip_horizontal else 1.0
        fx, fy, _ = camera.GetFocalPoint()
        # The image follows the mouse: the focal point moves the other way.
        self._place_camera(fx - right * dx * mm_per_px, fy + dy * mm_per_px,
                           camera.GetParallelScale())
        self._refresh()

    # ------------------------------------------------------------------ coordinates
    def display_to_scene(self, x: float, y: float) -> tuple[float, float]:
        """Scene mm under display pixel (x, y) (VTK display coordinates: origin bottom-left)."""
        camera = self.renderer.GetActiveCamera()
        w, h = self.viewport_size()
        x0, y0 = self._viewport_origin()
        fx, fy, _ = camera.GetFocalPoint()
        mm_per_px = 2.0 * camera.GetParallelScale() / h
        right = -1.0 if self.flip_horizontal else 1.0
        return (fx + right * (x - x0 - w / 2) * mm_per_px, fy - (y - y0 - h / 2) * mm_per_px)

    def _viewport_origin(self) -> tuple[float, float]:
        ww, wh = self.render_window.GetSize()
        vx0, vy0, _, _ = self.renderer.GetViewport()
        return vx0 * ww, vy0 * wh

    def display_to_image(self, x: float, y: float) -> Point:
        """(column, row) image pixel coordinates under a display pixel."""
        sx, sy = self.spacing
        mx, my = self.display_to_scene(x, y)
        return (mx / sx, my / sy)

    def display_to_image_corner(self, x: float, y: float) -> Point:
        """Image pixel coordinates under a display pixel with (0, 0) at the top-left CORNER
        of the top-left pixel (reading marks, AI results, DICOM SR/GSPS); the same point as
        :meth:`display_to_image` + 0.5."""
        column, row = self.display_to_image(x, y)
        return (column + 0.5, row + 0.5)

    def image_corner_to_display(self, x: float, y: float) -> tuple[float, float]:
        """Display pixel of a corner-origin image point (see :meth:`display_to_image_corner`)."""
        return self.image_to_display(x - 0.5, y - 0.5)

    def image_to_display(self, column: float, row: float) -> tuple[float, float]:
        coordinate = vtkCoordinate()
        coordinate.SetCoordinateSystemToWorld()
        sx, sy = self.spacing
        coordinate.SetValue(column * sx, row * sy, 0.0)
        x, y = coordinate.GetComputedDoubleDisplayValue(self.renderer)
        return (x, y)

    def set_flip_horizontal(self, flip: bool) -> None:
        self.flip_horizontal = flip
        self._rebuild_layers()
        self.fit()

    def set_alignment(self, side: Side | None) -> None:
        """Keep the image against the ``side`` edge of the viewport when fitted."""
        self.alignment = side
        self.fit()

    # ------------------------------------------------------------------ marks and overlays
    def add_measurement(self, measurement: Measurement) -> Measurement:
        self.measurements.append(measurement)
        self._rebuild_layers()
        return measurement

    def add_distance(self, start: Point, end: Point) -> Distance:
        m = Distance(self.index, start, end)
        self.add_measurement(m)
        return m

    def add_angle(self, first: Point, vertex: Point, second: Point) -> Angle:
        m = Angle(self.index, first, vertex, second)
        self.add_measurement(m)
        return m

    def remove_measurement(self, measurement: Measurement) -> None:
        if measurement in self.measurements:
            self.measurements.remove(measurement)
            self._rebuild_layers()

    def clear_measurements(self) -> None:
        self.measurements = []
        self._rebuild_layers()

    def measurement_text(self, m: Measurement) -> str:
        if isinstance(m, Distance):
            calibrated = self.stack is not None and self.stack.spacing_calibrated
            return self.formatter.distance(m.length_mm(self.spacing), calibrated)
        return self.formatter.angle(m.degrees(self.spacing))

    def set_heatmap(self, heatmap: Heatmap | None) -> None:
        self.heatmap = heatmap
        self._rebuild_layers()

    def set_boxes(self, boxes: Sequence[Box]) -> None:
        self.boxes = list(boxes)
        self._rebuild_layers()

    # ------------------------------------------------------------------ reader marks
    @property
    def marks(self) -> tuple[MarkGlyph, ...]:
        """The radiologist's marks shown over this stack (every image; drawn on their own)."""
        return self._reader_marks

    def set_marks(self, glyphs: Sequence[MarkGlyph]) -> None:
        """Show the radiologist's marks (coordinates: see :mod:`viewer.reader_marks`)."""
        self._reader_marks = tuple(glyphs)
        self._replace_layer("reader_marks", self._reader_mark_props())

    def set_mark_preview(self, glyph: MarkGlyph | None) -> None:
        """A temporary glyph (a mark being drawn or moved); one with the id of a shown mark is
        drawn in its place. None removes it."""
        self._mark_preview = glyph
        self._replace_layer("reader_marks", self._reader_mark_props())

    def mark_at(self, x_img: float, y_img: float, tolerance_px: float) -> str | None:
        """Id of the nearest mark on the current image within ``tolerance_px`` image pixels of
        corner-origin point (x_img, y_img): a point by distance, other shapes when inside or
        near their outline; None when there is none."""
        shown = [g for g in self._reader_marks if g.slice_index == self.index]
        return nearest_mark(shown, (x_img, y_img), tolerance_px)

    def _reader_mark_props(self) -> list[vtkProp]:
        if self.stack is None:
            return []
        preview = self._mark_preview
        shown = [g for g in self._reader_marks
                 if preview is None or g.mark_id != preview.mark_id]
        if preview is not None:
            shown.append(preview)
        sx, sy = self.spacing
        base = self._z("reader_marks")
        toward_camera = 1.0 if self.flip_horizontal else -1.0

        def to_scene(p: Point, depth: float) -> props.World:
            return ((p[0] - 0.5) * sx, (p[1] - 0.5) * sy, base + toward_camera * depth)

        built: list[vtkProp] = []
        for glyph in shown:
            if glyph.slice_index == self.index:
                built += glyph_props(glyph, to_scene, flipped=self.flip_horizontal)
        return built

    def _replace_layer(self, layer: str, built: list[vtkProp]) -> None:
        for p in self._layer_props[layer]:
            self.renderer.RemoveViewProp(p)
        for p in built:
            self.renderer.AddViewProp(p)
        self._layer_props[layer] = built

    def set_overlay_bitmaps(self, bitmaps: Sequence[OverlayBitmap]) -> None:
        self.bitmaps = list(bitmaps)
        self._rebuild_layers()

    def set_ai_overlays_visible(self, visible: bool) -> None:
        """One switch for every AI layer (heatmaps and AI boxes); the bare image stays."""
        self.ai_visible = visible
        self._rebuild_layers()

    def toggle_ai_overlays(self) -> None:
        self.set_ai_overlays_visible(not self.ai_visible)

    def set_dicom_overlays_visible(self, visible: bool) -> None:
        """Show or hide the stack's DICOM overlay planes (not the bitmaps set by callers)."""
        self.dicom_overlays_visible = visible
        self._rebuild_layers()

    def toggle_dicom_overlays(self) -> None:
        self.set_dicom_overlays_visible(not self.dicom_overlays_visible)

    @property
    def has_dicom_overlays(self) -> bool:
        """True when the stack carries DICOM overlay planes (on any slice)."""
        return self.stack is not None and bool(self.stack.overlays)

    def _on_slice(self, slice_index: int | None) -> bool:
        return slice_index is None or slice_index == self.index

    def _layers_change(self, old: int, new: int) -> bool:
        """Whether any overlay layer differs between images ``old`` and ``new`` (layers not
        bound to one image, like the crosshair, stay as they are)."""
        assert self.stack is not None
        on_either = {old, new}
        bound: list[int | None] = [m.slice_index for m in self.measurements]
        bound += [b.slice_index for b in self.boxes] + [b.slice_index for b in self.bitmaps]
        bound += [g.slice_index for g in self._reader_marks]
        if self.heatmap is not None:
            bound.append(self.heatmap.slice_index)
        if any(i in on_either for i in bound):
            return True
        return self.dicom_overlays_visible and bool(self.stack.overlays_at(old)
                                                    or self.stack.overlays_at(new))

    def _rebuild_layers(self) -> None:
        if self.stack is None:
            for layer in self._layer_props:
                self._replace_layer(layer, [])
            return
        for layer, built in (("heatmap", self._heatmap_props()), ("bitmap", self._bitmap_props()),
                             ("boxes", self._box_props()),
                             ("reader_marks", self._reader_mark_props()),
                             ("marks", self._mark_props()), ("crosshair", self._crosshair_props())):
            self._replace_layer(layer, built)

    def _z(self, layer: str) -> float:
        toward_camera = 1.0 if self.flip_horizontal else -1.0
        return toward_camera * _DEPTH[layer]

    def _scene(self, p: Point, layer: str) -> props.World:
        sx, sy = self.spacing
        return (p[0] * sx, p[1] * sy, self._z(layer))

    def _overlay_image(self, rgba: np.ndarray, layer: str) -> vtkProp:
        assert self.stack is not None
        sx, sy = self.spacing
        # Stretch a coarser map over the whole image, pixel edges on pixel edges.
        fx, fy = self.stack.columns / rgba.shape[1], self.stack.rows / rgba.shape[0]
        data = props.image_data(rgba, (sx * fx, sy * fy))
        data.SetOrigin(-sx / 2 + sx * fx / 2, -sy / 2 + sy * fy / 2, self._z(layer))
        prop = props.image_prop(data)
        # Heatmaps are smooth fields; overlay planes are crisp graphics (1-pixel lines).
        if layer == "heatmap":
            prop.GetProperty().SetInterpolationTypeToLinear()
        else:
            prop.GetProperty().SetInterpolationTypeToNearest()
        prop.ForceTranslucentOn()
        return prop

    def _heatmap_props(self) -> list[vtkProp]:
        h = self.heatmap
        if h is None or not (self.ai_visible or not h.ai) or not self._on_slice(h.slice_index):
            return []
        return [self._overlay_image(h.rgba(), "heatmap")]

    def _bitmap_props(self) -> list[vtkProp]:
        assert self.stack is not None
        shown = [b for b in self.bitmaps if self._on_slice(b.slice_index)]
        if self.dicom_overlays_visible:
            shown += plane_bitmaps(self.stack.overlays_at(self.index),
                                   self.stack.slices[self.index].frame)
        return [self._overlay_image(b.rgba(self.stack.rows, self.stack.columns), "bitmap")
                for b in shown]

    def _box_props(self) -> list[vtkProp]:
        assert self.stack is not None
        built: list[vtkProp] = []
        dash = max(self.stack.rows, self.stack.columns) / 80.0
        for box in self.boxes:
            if (box.ai and not self.ai_visible) or not self._on_slice(box.slice_index):
                continue
            # Box corners follow the AI results' convention (0, 0 is the top-left corner of
            # the top-left pixel); the scene puts pixel centres on whole numbers.
            x0, y0, x1, y1 = (v - 0.5 for v in box.xyxy)
            corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            if box.dashed:
                lines = [[self._scene(a, "boxes"), self._scene(b, "boxes")]
                         for a, b in dashed_segments(corners, dash)]
            else:
                lines = [[self._scene(c, "boxes") for c in [*corners, corners[0]]]]
            built.append(props.polyline_actor(lines, box.color))
            if box.caption:
                left = x1 if self.flip_horizontal else x0
                # AI captions hang under the box: above it sit the reader's mark captions
                # and the badge, which a wide caption on a small box would cover.
                label_at, offset = (((left, y1), (0.0, -17.0)) if box.ai
                                    else ((left, y0), (0.0, 0.0)))
                built.append(props.world_text(box.caption, self._scene(label_at, "boxes"),
                                              box.color, size=13, offset_px=offset))
            if box.badge:  # a filled tag on the box's top corner at the screen's right
                badge_at = (x0, y0) if self.flip_horizontal else (x1, y0)
                built.append(props.tag_text(box.badge, self._scene(badge_at, "boxes"),
                                            box.color))
        return built

    def _mark_props(self) -> list[vtkProp]:
        built: list[vtkProp] = []
        for m in self.measurements:
            if m.slice_index != self.index:
                continue
            built.append(props.polyline_actor([[self._scene(p, "marks") for p in m.points]],
                                              CYAN))
            anchor = m.end if isinstance(m, Distance) else m.vertex
            built.append(props.world_text(self.measurement_text(m),
                                          self._scene(anchor, "marks"), CYAN))
        return built

    def set_crosshair(self, point: Point | None) -> None:
        """Mark image point (column, row) with a small cross (None: no cross)."""
        self.crosshair = point
        self._rebuild_layers()
        self._refresh()

    def _crosshair_props(self) -> list[vtkProp]:
        if self.crosshair is None or self.stack is None:
            return []
        sx, sy = self.spacing
        # Four arms with a gap, so the cross never hides the point it marks.
        arm = max(self.stack.columns * sx, self.stack.rows * sy) / 25.0
        gap = arm / 3.0
        x, y = self.crosshair[0] * sx, self.crosshair[1] * sy
        z = self._z("crosshair")
        lines = [[(x + a * gap, y + b * gap, z), (x + a * arm, y + b * arm, z)]
                 for a, b in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        return [props.polyline_actor(lines, _CROSSHAIR)]

    # ------------------------------------------------------------------ annotations
    @property
    def edge_labels(self) -> EdgeLabels:
        if self.stack is None:
            return EdgeLabels("", "", "", "")
        h = self.stack.header
        return stack_edge_labels(h.image_orientation, h.patient_orientation, self.stack.direction,
                                 flip_horizontal=self.flip_horizontal)

    def annotation_context(self) -> AnnotationContext | None:
        stack = self.stack
        if stack is None:
            return None
        position = None
        info = stack.slices[self.index] if self.index < len(stack.slices) else None
        if info is not None and info.position is not None and \
                stack.header.image_orientation is not None:
            position = float(np.dot(np.asarray(info.position), np.asarray(stack.direction)[:, 2]))
        w = self.window
        return AnnotationContext(
            header=stack.header, index=self.index, count=stack.count, position_mm=position,
            window_center=None if w is None else float(w.center),
            window_width=None if w is None else float(w.width),
            window_name=self._window_name, zoom=self.zoom, inverted=self.user_inverted,
            spacing_calibrated=stack.spacing_calibrated)

    def set_formatter(self, formatter: TextFormatter) -> None:
        """Write the corner texts and measurements with ``formatter`` from now on."""
        self.formatter = formatter
        self._refresh()

    @property
    def corner_texts(self) -> CornerTexts:
        ctx = self.annotation_context()
        return CornerTexts() if ctx is None else self.formatter.corners(ctx)

    def _refresh(self) -> None:
        texts = self.corner_texts if self.show_annotations else CornerTexts()
        corner = vtkCornerAnnotation
        edges = self.edge_labels if self.show_annotations else EdgeLabels("", "", "", "")
        # VTK measures right-aligned text a little short: a trailing space keeps the last
        # character off the viewport's edge.
        for name, position, text in (
                ("corner", corner.UpperLeft, texts.upper_left),
                ("corner", corner.UpperRight, _pad_lines(texts.upper_right)),
                ("corner", corner.LowerRight, _pad_lines(texts.lower_right)),
                ("lower_left", 0, texts.lower_left),
                ("edge", corner.LowerEdge, edges.bottom), ("edge", corner.RightEdge, edges.right),
                ("edge", corner.UpperEdge, edges.top), ("edge", corner.LeftEdge, edges.left)):
            # Only what changed: VTK lays a text out again whenever it is set.
            if self._texts_shown.get((name, position)) == text:
                continue
            self._texts_shown[name, position] = text
            if name == "corner":
                self._corners.SetText(position, text)
            elif name == "edge":
                self._edges.SetText(position, text)
            else:
                self._lower_left_text.SetInput(text)
        for listener in self.listeners:
            listener(self)

    def set_active(self, active: bool) -> None:
        """Outline the viewport the keyboard acts on."""
        self._border.GetProperty().SetColor(*(_ACTIVE_BORDER if active else _BORDER))

    def set_viewport(self, viewport: tuple[float, float, float, float]) -> None:
        self.renderer.SetViewport(*viewport)
        self.fit()

    def render(self) -> None:
        self.render_window.Render()


def _pad_lines(text: str) -> str:
    return "\n".join(f"{line} " for line in text.split("\n")) if text else ""


def _corner_annotation(max_font: int) -> vtkCornerAnnotation:
    annotation = vtkCornerAnnotation()
    annotation.SetMaximumFontSize(max_font)
    annotation.SetMinimumFontSize(8)
    annotation.SetLinearFontScaleFactor(2)
    annotation.SetNonlinearFontScaleFactor(1)
    prop = annotation.GetTextProperty()
    prop.SetColor(0.95, 0.95, 0.95)
    prop.SetShadow(True)
    return annotation


def _corner_text() -> tuple[vtkActor2D, vtkTextMapper]:
    """Lower-left corner text drawn like :func:`_corner_annotation`'s (font at its maximum)."""
    mapper = vtkTextMapper()
    mapper.SetInput("")
    prop = mapper.GetTextProperty()
    prop.SetFontSize(_CORNER_FONT)
    prop.SetColor(0.95, 0.95, 0.95)
    prop.SetShadow(True)
    prop.SetJustificationToLeft()
    prop.SetVerticalJustificationToBottom()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.SetPosition(5, 5)  # vtkCornerAnnotation's margin, in viewport pixels
    return actor, mapper


def _border_actor() -> vtkActor2D:
    points = vtkPoints()
    for x, y in ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)):
        points.InsertNextPoint(x, y, 0.0)
    cells = vtkCellArray()
    cells.InsertNextCell(5, [0, 1, 2, 3, 0])
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetLines(cells)
    coordinate = vtkCoordinate()
    coordinate.SetCoordinateSystemToNormalizedViewport()
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    mapper.SetTransformCoordinate(coordinate)
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*_BORDER)
    actor.GetProperty().SetLineWidth(1.0)
    return actor
