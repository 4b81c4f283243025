// POST /store/carts/:id/line-items/bulk — the B2B starter's bulk contract, written for this test
// server on Medusa's core add-to-cart workflow (the starter itself is not installed here):
// body {line_items: [{variant_id, quantity}]} and nothing else; answers {cart}. Like the
// starter's route it returns no totals unless the query's `fields` asks for them.
const { addToCartWorkflow } = require("@medusajs/medusa/core-flows")
const { ContainerRegistrationKeys } = require("@medusajs/framework/utils")

const DEFAULT_FIELDS = ["id", "currency_code", "customer_id", "region_id", "metadata", "items.*"]

function requestedFields(raw) {
  const extra = String(raw || "")
    .split(",")
    .map((f) => f.trim().replace(/^\+/, ""))
    .filter(Boolean)
    .map((f) => (f.startsWith("*") ? `${f.slice(1)}.*` : f))
  return [...new Set([...DEFAULT_FIELDS, ...extra])]
}

function badRequest(res, message) {
  return res.status(400).json({ type: "invalid_data", message: `Invalid request: ${message}` })
}

async function POST(req, res) {
  const body = req.body || {}
  const unknown = Object.keys(body).filter((k) => k !== "line_items")
  if (unknown.length) return badRequest(res, `Unrecognized fields: ${unknown.map((k) => `'${k}'`).join(", ")}`)
  if (!Array.isArray(body.line_items)) return badRequest(res, "Field 'line_items' is required")
  for (const item of body.line_items) {
    if (typeof item?.variant_id !== "string" || typeof item?.quantity !== "number") {
      return badRequest(res, "each line item needs variant_id (string) and quantity (number)")
    }
  }
  const query = req.scope.resolve(ContainerRegistrationKeys.QUERY)
  const fields = requestedFields(req.query.fields)
  const read = async () =>
    (await query.graph({ entity: "cart", fields, filters: { id: req.params.id } }, { throwIfKeyNotFound: true }))
      .data[0]
  await read()
  const items = body.line_items.map(({ variant_id, quantity }) => ({ variant_id, quantity }))
  await addToCartWorkflow(req.scope).run({ input: { cart_id: req.params.id, items } })
  res.json({ cart: await read() })
}

module.exports = { POST }
