/* The Compose JSON schema, built into the binary (orchestrator/schema/). */
	.section .rodata
	.global berth_compose_schema
	.type berth_compose_schema, @object
berth_compose_schema:
	.incbin "orchestrator/schema/compose-spec.json"
	.byte 0
	.section .note.GNU-stack,"",@progbits
