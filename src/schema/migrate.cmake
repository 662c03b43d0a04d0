# The migrator: migration folders (Quarry, drizzle-kit, plain numbered), the tracking table,
# apply/status/dry-run/down, schema groups and seeding, and the recorded schema
# (_quarry_schema), which it stores as text. It does not depend on the schema
# language; the language's diff produces SQL that CreateMigrationFile writes.
add_library(quarry_migrate
  ${CMAKE_CURRENT_SOURCE_DIR}/migration_sql.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/migration_folder.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/migrator.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/migration_execution.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/migration_history.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/migration_groups.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/seeder.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/migration_json.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/recorded_schema.cc
)
target_link_libraries(quarry_migrate
  PUBLIC quarry_storage quarry_common
  PUBLIC Boost::json
  PRIVATE OpenSSL::Crypto PkgConfig::SQLITE3)

quarry_test(migrate_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/migration_sql_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/migration_folder_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/migrator_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/migration_groups_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/seeder_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/migration_json_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/recorded_schema_test.cc
  LIBS quarry_migrate PkgConfig::SQLITE3)
target_compile_definitions(migrate_test PRIVATE
  QUARRY_MIGRATE_FIXTURES="${CMAKE_SOURCE_DIR}/tests/migrate")
