# Extra ctest labels. "threads" makes scripts/test.sh also run a test under TSan.
# One line per test: set_tests_properties(<test> PROPERTIES LABELS "<label>;...")
set_tests_properties(test_httpd PROPERTIES LABELS "unit;threads")
set_tests_properties(test_store_swarm PROPERTIES LABELS "integ;threads")
set_tests_properties(test_pool PROPERTIES LABELS "unit;threads")
set_tests_properties(test_workers_sim PROPERTIES LABELS "integ;threads")
set_tests_properties(test_callbacks PROPERTIES LABELS "integ;threads")
set_tests_properties(test_tz PROPERTIES LABELS "unit;threads")
set_tests_properties(test_api PROPERTIES LABELS "integ;threads")
