// The parts of a network that Model.profile times: 'stem', each block under its state-dict prefix,
// 'head'. PiX and ResNet name the same place differently ('layer1.blocks.0', 'layer1.0'); tables
// and charts that put the two side by side show one label.

/** A block's place, whatever its family calls it: 'layer1.blocks.0' reads as 'layer1.0'. */
export function partLabel(name: string): string {
  return name.replace('.blocks.', '.');
}
