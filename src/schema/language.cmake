# The schema language: schema text -> syntax tree (lexer, parser, loader) -> validated model
# (binder) -> DDL; and the formatter. See docs/schema-language.md.
add_library(quarry_schema
  ${CMAKE_CURRENT_LIST_DIR}/lexer.cc
  ${CMAKE_CURRENT_LIST_DIR}/parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/loader.cc
  ${CMAKE_CURRENT_LIST_DIR}/model.cc
  ${CMAKE_CURRENT_LIST_DIR}/binder.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_declarations.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_arguments.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_field_attributes.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_defaults.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_model_attributes.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_policies.cc
  ${CMAKE_CURRENT_LIST_DIR}/bind_relations.cc
  ${CMAKE_CURRENT_LIST_DIR}/formatter.cc
  ${CMAKE_CURRENT_LIST_DIR}/ddl.cc
  ${CMAKE_CURRENT_LIST_DIR}/introspect.cc
  ${CMAKE_CURRENT_LIST_DIR}/create_table_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/schema_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/diff.cc
)
target_link_libraries(quarry_schema PUBLIC quarry_common quarry_storage)

# Unit tests beside the code, and the data-driven cases of tests/schema/**/*.test (see the
# comment at the top of tests/schema/schema_test_runner.cc). The runner reads the case files at
# run time; LINK_DEPENDS relinks it, and so re-lists its cases in ctest, when they change.
file(GLOB_RECURSE QUARRY_SCHEMA_TEST_FILES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/tests/schema/*.test ${CMAKE_SOURCE_DIR}/tests/schema_diff/*.test)
quarry_test(schema_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/parser_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/binder_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/ddl_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/introspect_test.cc
          ${CMAKE_SOURCE_DIR}/tests/schema/schema_test_runner.cc
          ${CMAKE_SOURCE_DIR}/tests/schema/model_summary.cc
          ${CMAKE_SOURCE_DIR}/tests/schema_diff/schema_diff_test_runner.cc
          ${CMAKE_SOURCE_DIR}/tests/common/test_file.cc
  LIBS quarry_schema)
target_include_directories(schema_test PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
target_compile_definitions(schema_test PRIVATE
                           QUARRY_SCHEMA_TEST_DIR="${CMAKE_SOURCE_DIR}/tests/schema"
                           QUARRY_SCHEMA_DIFF_TEST_DIR="${CMAKE_SOURCE_DIR}/tests/schema_diff")
set_property(TARGET schema_test APPEND PROPERTY LINK_DEPENDS ${QUARRY_SCHEMA_TEST_FILES})
