// The browser build's stb_image_write (screenshots): on the desktop Debian's libstb holds it; here it
// is compiled from the same Debian header (libstb-dev).
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
