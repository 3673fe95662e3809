// Attention heatmap, query x key, drawn into an offscreen texture the size of the on-screen image.
// The picture shows rows u_view.x.. (u_view.z of them) and keys u_view.y.. (u_view.w of them) of the
// u_n_positions x u_n_positions grid: the whole matrix, or a focus window on it (row 0 at the top).
// u_values holds the rows this pane computed: texel (k, i) = weight of query position u_query_begin + i
// on key position k, or -1 where the trace says that query could not see that key (causal mask,
// window). Other rows were not computed by this pane this step (the cached pane keeps no Q).
uniform sampler2D u_values;  // R32F [n_query_rows, n_positions]
uniform int u_n_positions;
uniform ivec4 u_view;       // first row, first key, rows shown, keys shown
uniform int u_query_begin;
uniform int u_n_query_rows;
uniform vec2 u_size_px;
uniform vec3 u_masked;      // future (causally masked) and out-of-window cells
uniform vec3 u_hatch;
uniform vec3 u_empty;       // rows not computed in this pane this step
uniform vec3 u_grid;
out vec4 frag_color;

// viridis (colour-blind safe, readable in greyscale): a public-domain degree-6 polynomial fit to
// matplotlib's table, Horner form.
vec3 viridis(float t) {
  const vec3 c0 = vec3(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
  const vec3 c1 = vec3(0.1050930431085774, 1.404613529898575, 1.384590162594685);
  const vec3 c2 = vec3(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
  const vec3 c3 = vec3(-4.634230498983486, -5.799100973351585, -19.33244095627987);
  const vec3 c4 = vec3(6.228269936347081, 14.17993336680509, 56.69055260068105);
  const vec3 c5 = vec3(4.776384997670288, -13.74514537774601, -65.35303263337234);
  const vec3 c6 = vec3(-5.435455855934631, 4.645852612178535, 26.3124352495832);
  return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

void main() {
  vec2 px = vec2(gl_FragCoord.x, u_size_px.y - gl_FragCoord.y);  // y down, like the screen
  vec2 cell_size = u_size_px / vec2(float(max(u_view.w, 1)), float(max(u_view.z, 1)));
  ivec2 cell = clamp(ivec2(px / cell_size), ivec2(0), ivec2(max(u_view.w, 1) - 1, max(u_view.z, 1) - 1));
  int key = min(u_view.y + cell.x, u_n_positions - 1);
  int query = min(u_view.x + cell.y, u_n_positions - 1);
  vec3 color;
  if (query < u_query_begin || query >= u_query_begin + u_n_query_rows) {
    color = u_empty;
  } else {
    float w = texelFetch(u_values, ivec2(key, query - u_query_begin), 0).r;
    // Masked cells are hatched, so they differ from low weights in colour and in texture.
    color = w < 0.0 ? (mod(px.x + px.y, 10.0) < 3.0 ? u_hatch : u_masked) : viridis(clamp(w, 0.0, 1.0));
  }
  // Thin grid lines between cells when cells are large enough to show them.
  vec2 in_cell = px - vec2(cell) * cell_size;
  if (min(cell_size.x, cell_size.y) >= 8.0 && (in_cell.x < 1.0 || in_cell.y < 1.0)) color = u_grid;
  frag_color = vec4(color, 1.0);
}
