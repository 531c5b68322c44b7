/* Reading fields of the JSON objects domusd keeps (domain records, API requests): a missing or
 * mistyped string is NULL, a missing number 0, so callers check what they need once. */
#ifndef DOMUS_JSON_GET_H
#define DOMUS_JSON_GET_H
#include <json-c/json.h>
#include <stdint.h>

const char *json_get_str(struct json_object *o, const char *key);
int64_t json_get_i64(struct json_object *o, const char *key);

#endif
