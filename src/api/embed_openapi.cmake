# cmake -DIN=openapi.json -DOUT=openapi_json.cc -P embed_openapi.cmake
# Writes a C++ file defining custos::api::OpenApiJson() as the text of IN.
file(READ "${IN}" content)
string(FIND "${content}" ")custos_openapi\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )custos_openapi\"")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated from src/api/openapi.json by embed_openapi.cmake; do not edit.\n"
  "#include <string_view>\n\n"
  "namespace custos::api {\n\n"
  "std::string_view OpenApiJson() {\n"
  "  static constexpr char kText[] = R\"custos_openapi(${content})custos_openapi\";\n"
  "  return std::string_view(kText, sizeof(kText) - 1);\n"
  "}\n\n"
  "}  // namespace custos::api\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
