/* The Compose JSON schema, built into the binary: the build writes
 * compose-spec.min.json (orchestrator/schema/minify.c) into the build folder. */
	.section .rodata
	.global berth_compose_schema
	.type berth_compose_schema, @object
berth_compose_schema:
	.incbin "compose-spec.min.json"
	.byte 0
	.section .note.GNU-stack,"",@progbits
