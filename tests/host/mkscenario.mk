# tools/mkscenario's parser and generators: good files, every error
# message, and generated files built and run with the host compiler.
host_tests += mkscenario
host_mkscenario_srcs := tests/host/test_mkscenario.c \
	tools/mkscenario/scenario_parse.c tools/mkscenario/scenario_write.c
host_mkscenario_deps := tools/mkscenario/scenario_parse.h \
	tools/mkscenario/scenario_write.h virt/scenario.h virt/guest_map.h
