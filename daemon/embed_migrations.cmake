# Writes a C++ file holding every schema version once, with its SQL for each backend:
# migrations/NNN_name.sql (SQLite) and postgres/migrations/NNN_name.sql (PostgreSQL).
# One list of versions: a version missing from either folder fails the build.
function(read_versions dir out_names)
  file(GLOB files "${dir}/*.sql")
  list(SORT files)
  set(names "")
  foreach(f IN LISTS files)
    get_filename_component(name "${f}" NAME_WE)
    list(APPEND names "${name}")
  endforeach()
  set(${out_names} "${names}" PARENT_SCOPE)
endfunction()

read_versions("${DIR}/migrations" sqlite_names)
read_versions("${DIR}/postgres/migrations" postgres_names)
if(NOT sqlite_names STREQUAL postgres_names)
  message(FATAL_ERROR "Schema versions differ between backends:\n  sqlite:   ${sqlite_names}\n"
                      "  postgres: ${postgres_names}\nEvery NNN_name.sql needs its twin.")
endif()

set(body "")
foreach(name IN LISTS sqlite_names)
  string(REGEX MATCH "^[0-9]+" version "${name}")
  math(EXPR version "${version}")
  file(READ "${DIR}/migrations/${name}.sql" sqlite_sql)
  file(READ "${DIR}/postgres/migrations/${name}.sql" postgres_sql)
  string(APPEND body "    {${version}, \"${name}\", R\"chatd_sql(${sqlite_sql})chatd_sql\",\n"
                     "     R\"chatd_sql(${postgres_sql})chatd_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "#include \"store/migrations.hpp\"\n\nnamespace chatd::store {\n\nconst std::vector<migration>& migrations() {\n    static const std::vector<migration> all = {\n${body}    };\n    return all;\n}\n\n}  // namespace chatd::store\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
