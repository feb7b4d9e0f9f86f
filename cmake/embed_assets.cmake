# Turns every SRC/* file (the web console: console/) into a C byte array:
# gen/rd_assets.c defines `const char rd_asset_<name>[]` and its length
# (<name> = the file name with '.' and '-' as '_'), gen/rd_assets.h declares
# them. Run at build time: the binary carries its assets, no file is read at
# run time and there is no build step of its own (plain files, no bundler).
file(GLOB files ${SRC}/*)
list(SORT files)
file(MAKE_DIRECTORY ${OUT})
set(c "/* Generated from console/ by cmake/embed_assets.cmake. Do not edit. */\n#include \"rd_assets.h\"\n")
set(h "/* Generated from console/ by cmake/embed_assets.cmake. Do not edit. */\n#ifndef RD_ASSETS_H\n#define RD_ASSETS_H\n#include <stddef.h>\n")
foreach(f ${files})
  get_filename_component(n ${f} NAME)
  string(REGEX REPLACE "[.-]" "_" n ${n})
  file(READ ${f} hex HEX)
  string(LENGTH "${hex}" hl)
  math(EXPR len "${hl} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND c "const char rd_asset_${n}[] = {${bytes}0};\nconst size_t rd_asset_${n}_len = ${len};\n")
  string(APPEND h "extern const char rd_asset_${n}[];\nextern const size_t rd_asset_${n}_len;\n")
endforeach()
string(APPEND h "#endif\n")
file(WRITE ${OUT}/rd_assets.c.tmp "${c}")
file(WRITE ${OUT}/rd_assets.h.tmp "${h}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}/rd_assets.c.tmp ${OUT}/rd_assets.c)
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}/rd_assets.h.tmp ${OUT}/rd_assets.h)
