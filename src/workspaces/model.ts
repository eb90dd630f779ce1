import * as v from "valibot";

export const WorkspaceName = v.pipe(
  v.string("name must be a string"),
  v.trim(),
  v.nonEmpty("name must not be empty"),
  v.maxLength(100, "name must be at most 100 characters"),
);

export const WorkspaceBody = v.object({ name: WorkspaceName });

/** Ids are cuid2 strings; anything else can only be "not found", never a validation error that confirms a format. */
export const IdParam = v.pipe(v.string(), v.maxLength(64, "id is too long"));
export const WorkspaceParams = v.object({ id: IdParam });
